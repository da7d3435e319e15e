#!/usr/bin/env bash
# up.sh [DIR] - start both loopback S3 test servers side by side (Ceph RGW via
# start-rgw.sh, moto_server via start-moto.sh) and write DIR/env, the file the
# C++ integration tests read (after `set -a; . DIR/env; set +a`):
#   DBB_TEST_RGW_ENDPOINT  DBB_TEST_RGW_ACCESS_KEY  DBB_TEST_RGW_SECRET_KEY   (owner)
#   DBB_TEST_RGW_BACKUP_ACCESS_KEY  DBB_TEST_RGW_BACKUP_SECRET_KEY  (unprivileged "backup")
#   DBB_TEST_RGW_CONF      ceph.conf, for radosgw-admin -c
#   DBB_TEST_MOTO_ENDPOINT  DBB_TEST_MOTO_ACCESS_KEY  DBB_TEST_MOTO_SECRET_KEY  (admin)
#   DBB_TEST_MOTO_BUCKET
#   DBB_TEST_MOTO_BACKUP_ACCESS_KEY  DBB_TEST_MOTO_BACKUP_SECRET_KEY   (seed policy)
#   DBB_TEST_MOTO_NODELETE_ACCESS_KEY  DBB_TEST_MOTO_NODELETE_SECRET_KEY (seed minus Delete)
#   DBB_REQUIRE_S3=1       the tests must fail, not skip, if a server is unusable
# Region: us-east-1, path-style addressing, plain http on 127.0.0.1.
#
# DIR must be empty or absent; default: a fresh mktemp directory. stdout gets one
# line, the path of the env file; progress goes to stderr. If either server fails
# to start, both are stopped and up.sh exits non-zero.
# Stop with: down.sh DIR   (stops by pid; --purge also removes DIR)
set -euo pipefail
TE_NAME=up
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
. "$HERE/lib.sh"

D=$(make_state_dir "${1:-}" dbb-test-env)
T0=$SECONDS
READY=0
on_exit() {
  local rc=$?
  [ $READY = 1 ] && return 0
  log "start-up failed (rc=$rc); stopping whatever started"
  "$HERE/down.sh" "$D" || true
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

start_rgw() { # a lost free-port race makes radosgw fail to bind: retry once
  "$HERE/start-rgw.sh" "$D/rgw" >/dev/null && return 0
  log "RGW start failed; retrying once in a fresh directory"
  "$HERE/stop-rgw.sh" "$D/rgw" --purge || return 1
  "$HERE/start-rgw.sh" "$D/rgw" >/dev/null
}
start_rgw &
rgw_job=$!
moto_rc=0
"$HERE/start-moto.sh" "$D/moto" >/dev/null || moto_rc=$?
rgw_rc=0
wait $rgw_job || rgw_rc=$?
[ $rgw_rc = 0 ] || die "Ceph RGW did not start (see the log above)"
[ $moto_rc = 0 ] || die "moto_server did not start (see the log above)"

{
  cat "$D/rgw/rgw.env" "$D/moto/moto.env"
  echo "DBB_REQUIRE_S3=1"
} >"$D/env.tmp"
# The values are used unquoted by `. env`: refuse anything a shell would split.
if grep -qv '^DBB_[A-Z0-9_]*=[A-Za-z0-9_./:+=-]*$' "$D/env.tmp"; then
  die "unexpected characters in $D/env.tmp"
fi
mv "$D/env.tmp" "$D/env"
READY=1
log "both servers ready after $((SECONDS - T0))s; use: set -a; . $D/env; set +a"
echo "$D/env"
