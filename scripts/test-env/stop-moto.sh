#!/usr/bin/env bash
# stop-moto.sh DIR [--purge] - stop the moto_server that start-moto.sh started in
# DIR, by the pid in DIR/moto.pid (never by name). The pid is signalled only while
# its command line is still moto_server on the recorded port (guards against pid
# reuse). --purge also deletes DIR. Returns 2 if DIR is not a moto state dir.
set -uo pipefail
TE_NAME=stop-moto
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

D=${MOTO_DIR:-}
PURGE=0
for a in "$@"; do
  case "$a" in --purge) PURGE=1 ;; *) D=$a ;; esac
done
if [ -z "$D" ] || [ ! -f "$D/moto.log" ]; then
  echo "usage: stop-moto.sh DIR [--purge]  (DIR as given to or made by start-moto.sh)" >&2
  exit 2
fi
rc=0
if [ -f "$D/moto.pid" ]; then
  read -r pid port <"$D/moto.pid"
  if stop_pid moto_server "$pid" moto_server "$port"; then rm -f "$D/moto.pid"; else rc=1; fi
fi
if [ $PURGE = 1 ] && [ $rc = 0 ]; then rm -rf "$D"; fi
exit $rc
