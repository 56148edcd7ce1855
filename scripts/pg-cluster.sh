#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for tests and benchmarks of the
# PostgreSQL store (spec/storage.md §8). PostgreSQL refuses to run as root,
# so as root this runs it as the unprivileged system user `tallyboard-pg`
# (created if missing); installs Debian's `postgresql` if it is missing.
#
#   scripts/pg-cluster.sh start DIR [PORT]      # prints the store URL on stdout
#   scripts/pg-cluster.sh standby PRIMARY DIR   # a synchronous streaming standby
#                                               # of the cluster in PRIMARY; its URL
#   scripts/pg-cluster.sh promote DIR           # the standby becomes the primary
#   scripts/pg-cluster.sh kill DIR              # SIGKILL, as a machine dies
#   scripts/pg-cluster.sh stop DIR
#
# The cluster trusts local connections (loopback only, a test cluster) and
# runs with synchronous_commit on and fsync on, as a board's database must.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a directory for the cluster}
port=${3:-0}
user=tallyboard-pg

bin=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bin=$d; done
if [ -z "$bin" ]; then
  echo "pg-cluster: installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/pg_ctl" ] && bin=$d; done
fi
[ -n "$bin" ] || { echo "pg-cluster: no PostgreSQL binaries" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  if [ "$(id -u)" = 0 ] && ! id -u "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then chown "$user" "$dir"; fi
  if [ "$port" = 0 ]; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  fi
  as_pg "$bin/initdb" -D "$dir/data" -U tallyboard --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
max_connections = 100
CONF
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U tallyboard tallyboard >&2
  echo "postgres://tallyboard@127.0.0.1:$port/tallyboard"
  ;;
standby)
  # $dir is the primary's directory here; the standby's is $3.
  primary=$(cd "$dir" && pwd)
  sdir=${3:?a directory for the standby}
  mkdir -p "$sdir"
  sdir=$(cd "$sdir" && pwd)
  if [ "$(id -u)" = 0 ]; then chown "$user" "$sdir"; fi
  pport=$(sed -n 's/^port = //p' "$primary/data/postgresql.conf" | tail -1)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$pport" -U tallyboard -D "$sdir/data" -X stream -R \
    --checkpoint=fast >"$sdir/basebackup.log" 2>&1 || { cat "$sdir/basebackup.log" >&2; exit 1; }
  cat >>"$sdir/data/postgresql.conf" <<CONF
port = $port
unix_socket_directories = '$sdir'
CONF
  as_pg "$bin/pg_ctl" -D "$sdir/data" -l "$sdir/server.log" -w -t 60 start >&2 \
    || { cat "$sdir/server.log" >&2; exit 1; }
  # Only now (the standby's copy of the settings must not wait for a
  # standby of its own once promoted): the primary's commits wait for it.
  psql -q -h 127.0.0.1 -p "$pport" -U tallyboard -d postgres \
    -c "ALTER SYSTEM SET synchronous_standby_names = '*'" -c "SELECT pg_reload_conf()" >&2
  for _ in $(seq 1 100); do
    state=$(psql -qtA -h 127.0.0.1 -p "$pport" -U tallyboard -d postgres \
      -c "SELECT sync_state FROM pg_stat_replication" 2>/dev/null || true)
    [ "$state" = sync ] && break
    sleep 0.1
  done
  [ "$state" = sync ] || { echo "pg-cluster: the standby is not synchronous ($state)" >&2; exit 1; }
  echo "postgres://tallyboard@127.0.0.1:$port/tallyboard"
  ;;
promote)
  as_pg "$bin/pg_ctl" -D "$dir/data" -w -t 60 promote >&2
  ;;
kill)
  pid=$(head -1 "$dir/data/postmaster.pid")
  pkill -9 -P "$pid" || true
  kill -9 "$pid"
  ;;
stop)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  ;;
*)
  echo "usage: $0 start DIR [PORT] | standby PRIMARY DIR | promote DIR | kill DIR | stop DIR" >&2; exit 2 ;;
esac
