#!/usr/bin/env bash
# down.sh DIR [--purge] - stop the servers up.sh started in DIR (each by its pid
# files, guarded against pid reuse). --purge also deletes DIR once both are down.
# Safe to call on a partly started DIR. Exits non-zero if a process survived.
set -uo pipefail
TE_NAME=down
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
. "$HERE/lib.sh"

D=""
PURGE=0
for a in "$@"; do
  case "$a" in --purge) PURGE=1 ;; *) D=$a ;; esac
done
[ -n "$D" ] && [ -d "$D" ] || { echo "usage: down.sh DIR [--purge]" >&2; exit 2; }
rc=0
if [ -d "$D/rgw/pids" ]; then "$HERE/stop-rgw.sh" "$D/rgw" || rc=1; fi
if [ -f "$D/moto/moto.log" ]; then "$HERE/stop-moto.sh" "$D/moto" || rc=1; fi
if [ $PURGE = 1 ] && [ $rc = 0 ]; then rm -rf "$D"; fi
exit $rc
