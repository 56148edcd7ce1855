#!/usr/bin/env bash
# Makes sure tmux is installed (Debian's `tmux`, installed with apt-get if
# missing) and prints the path of its binary: tests/station.rs drives the
# station console in a real terminal through it (tmux new-session,
# send-keys, capture-pane). Every step is bounded in time.
#
#   scripts/tmux.sh        # prints e.g. /usr/bin/tmux
set -euo pipefail
if ! command -v tmux >/dev/null 2>&1; then
  echo "tmux.sh: installing tmux" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo -n); fi
  timeout 300 "${sudo[@]}" apt-get update -qq >&2
  timeout 300 "${sudo[@]}" apt-get install -y -qq tmux >/dev/null
fi
command -v tmux
