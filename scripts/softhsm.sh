#!/usr/bin/env bash
# A throwaway SoftHSM2 token for tests and the demo's keys (`tallyboard demo
# --hsm`, spec/operations.md §13). Installs Debian's `softhsm2` if it is
# missing; the token lives under DIR with its own configuration, so the
# system's tokens are never touched.
#
#   scripts/softhsm.sh token DIR LABEL
#
# creates DIR/softhsm2.conf, DIR/tokens/ and DIR/user.pin (mode 0600, a
# random PIN), initialises a token labelled LABEL, and prints on stdout
# (each value single-quoted, for eval)
#
#   SOFTHSM2_CONF='DIR/softhsm2.conf'
#   MODULE='/usr/lib/softhsm/libsofthsm2.so'
#   PIN_FILE='DIR/user.pin'
#   URI='pkcs11:token=LABEL;object='
#   QUERY='?module-path=MODULE&pin-source=file:DIR/user.pin'
#
# A key's URI is URI, the key name, then QUERY; every process that opens the
# token needs SOFTHSM2_CONF in its environment. Only for throwaway tokens:
# softhsm2-util takes the PINs as arguments (a real HSM is initialised in
# its own ceremony, never with this script).
set -euo pipefail
cmd=${1:?token}
dir=${2:?a directory for the token}
label=${3:?a token label}
[ "$cmd" = token ] || { echo "softhsm: unknown command $cmd" >&2; exit 2; }

module=""
find_module() {
  for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/*/softhsm/libsofthsm2.so; do
    [ -f "$m" ] && { module=$m; return; }
  done
}
find_module
if [ -z "$module" ] || ! command -v softhsm2-util >/dev/null; then
  echo "softhsm: installing softhsm2" >&2
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >&2
  timeout 300 apt-get install -y -qq softhsm2 >/dev/null
  find_module
fi
[ -n "$module" ] || { echo "softhsm: no libsofthsm2.so after installing softhsm2" >&2; exit 1; }

# Ed25519 (CKM_EDDSA) needs SoftHSM 2.6 or later built with OpenSSL 1.1.1+
# (Debian's is); refuse an older one with a clear message.
version=$(softhsm2-util --version)
case "$version" in
  2.[0-5]|2.[0-5].*|1.*) echo "softhsm: SoftHSM $version has no Ed25519; 2.6 or later is needed" >&2; exit 1 ;;
esac

mkdir -p "$dir/tokens"
dir=$(cd "$dir" && pwd)
conf=$dir/softhsm2.conf
cat >"$conf" <<EOF
directories.tokendir = $dir/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF=$conf

umask 077
pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
so_pin=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$pin" >"$dir/user.pin"
timeout 60 softhsm2-util --init-token --free --label "$label" \
  --pin "$pin" --so-pin "$so_pin" >/dev/null

# Single-quoted, for `eval "$(scripts/softhsm.sh token DIR LABEL)"`.
echo "SOFTHSM2_CONF='$conf'"
echo "MODULE='$module'"
echo "PIN_FILE='$dir/user.pin'"
echo "URI='pkcs11:token=$label;object='"
echo "QUERY='?module-path=$module&pin-source=file:$dir/user.pin'"
