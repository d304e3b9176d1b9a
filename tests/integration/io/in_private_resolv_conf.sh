#!/bin/sh
# Runs a test binary in private mount and network namespaces where /etc/resolv.conf names 127.0.0.1, so that the
# fake DNS server (on port 53 there) is what io::resolve_within's shared resolver asks. Needs root (unshare);
# exits 77 (ctest: skipped) when that is not possible here.
#   in_private_resolv_conf.sh <test binary> [gtest args...]
set -eu
if [ "$(id -u)" != 0 ] || ! unshare -mn true 2>/dev/null; then
  echo "skipped: unshare -mn needs root" >&2
  exit 77
fi
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
echo 'nameserver 127.0.0.1' >"$conf"
HEALTHD_FAKE_DNS_PORT=53 RESOLV_CONF="$conf" unshare -mn sh -c \
  'ip link set lo up && mount --bind "$RESOLV_CONF" /etc/resolv.conf && exec "$@"' sh "$@"
