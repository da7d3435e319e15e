#!/usr/bin/env bash
# stop-rgw.sh DIR [--purge] - stop exactly the daemons start-rgw.sh started in DIR,
# by the pid files in DIR/pids/ (never by process name), rgw first, then osd and mon.
# A pid is signalled only while its command line still names DIR/ceph.conf (guards
# against pid reuse); SIGKILL after 10 s. --purge also deletes DIR (memstore keeps
# no data across a stop anyway). Returns 2 if DIR is not a cluster directory.
set -uo pipefail
TE_NAME=stop-rgw
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=${RGW_DIR:-}
PURGE=0
for a in "$@"; do
  case "$a" in --purge) PURGE=1 ;; *) D=$a ;; esac
done
if [ -z "$D" ] || [ ! -d "$D/pids" ]; then
  echo "usage: stop-rgw.sh DIR [--purge]  (DIR as given to or made by start-rgw.sh)" >&2
  exit 2
fi
D=$(cd "$D" && pwd -P)
rc=0
for name in rgw.a osd.0 mon.a; do # reverse start order
  f=$D/pids/$name.pid
  [ -f "$f" ] || continue
  if stop_pid "$name" "$(cat "$f")" "$D/ceph.conf"; then rm -f "$f"; else rc=1; fi
done
if [ $PURGE = 1 ] && [ $rc = 0 ]; then rm -rf "$D"; fi
exit $rc
