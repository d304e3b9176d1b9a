#!/bin/sh
# Runs a test binary in private mount and network namespaces where /etc/resolv.conf names 127.0.0.1, so that the
# fake DNS server (on port 53 there) is what io::resolve_within's shared resolver asks. Needs root (unshare, mount,
# ip); exits 77 (ctest: skipped) when the namespaces cannot be set up here, e.g. in a container without the rights.
#   in_private_resolv_conf.sh <test binary> [gtest args...]
set -eu
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT
echo 'nameserver 127.0.0.1' >"$conf"
setup='ip link set lo up && mount --bind "$RESOLV_CONF" /etc/resolv.conf'
export RESOLV_CONF="$conf"
if [ "$(id -u)" != 0 ] || ! unshare -mn sh -c "$setup" 2>/dev/null; then
  echo "skipped: private namespaces need root (unshare -mn, mount --bind, ip link)" >&2
  exit 77
fi
HEALTHD_FAKE_DNS_PORT=53 unshare -mn sh -c "$setup"' && exec "$@"' sh "$@"
