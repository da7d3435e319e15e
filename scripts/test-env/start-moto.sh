#!/usr/bin/env bash
# start-moto.sh [DIR] - start moto_server on a free 127.0.0.1 port with signature
# checks and IAM policies ENFORCED, and set up the least-privilege test users.
#
# moto enforces auth once INITIAL_NO_AUTH_ACTION_COUNT requests have been served.
# The window here is exactly 3 requests, spent (with the aws CLI) on creating the
# "admin" user, giving it an allow-all policy and an access key. Everything after
# that is signed with the admin's key, so it works with enforcement on:
#   - bucket  $MOTO_BUCKET (default dbb-moto-test)
#   - user "backup":   exactly the seed system's IAM policy (s3:PutObject,
#                      GetObject, ListBucket, DeleteObject on the bucket and
#                      bucket/*) plus an access key;
#   - user "nodelete": the same policy minus s3:DeleteObject.
# Finally it checks that enforcement is on (an unknown key is rejected).
#
# DIR must be empty or absent; default: a fresh mktemp directory. DIR receives
# moto.pid, moto.log and moto.env (the DBB_TEST_MOTO_* variables, NAME=value
# lines), which are also printed on stdout. Progress goes to stderr.
# Stop with: stop-moto.sh DIR [--purge]
#
# Environment (optional): MOTO_PORT (default: a free port), MOTO_BUCKET,
# MOTO_START_TIMEOUT (seconds, default 60), MOTO_SKIP_INSTALL=1 (never pip install).
#
# Known moto 5.2.1 trap: with IAM enforced it rejects correctly signed requests
# whose query string holds "/" (ListObjectsV2 prefix=backups/full/) with
# SignatureDoesNotMatch. Tests needing such lists use Ceph RGW (start-rgw.sh).
set -euo pipefail
TE_NAME=start-moto
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MOTO_BUCKET=${MOTO_BUCKET:-dbb-moto-test}
MOTO_START_TIMEOUT=${MOTO_START_TIMEOUT:-60}

if ! command -v moto_server >/dev/null 2>&1; then
  [ "${MOTO_SKIP_INSTALL:-0}" = 1 ] && die "moto_server not found (MOTO_SKIP_INSTALL=1)"
  log "moto_server not found; installing with pip"
  pip3 install --quiet 'moto[server]' >&2 ||
    pip3 install --quiet --break-system-packages 'moto[server]' >&2 || die "pip install moto failed"
  hash -r
fi
command -v aws >/dev/null 2>&1 || die "the aws CLI is missing (run scripts/setup.sh --test)"
command -v curl >/dev/null 2>&1 || die "curl is missing (run scripts/setup.sh --test)"

D=$(make_state_dir "${1:-${MOTO_DIR:-}}" dbb-moto)
T0=$SECONDS

READY=0
PID=""
PORT=""
cleanup_on_exit() {
  local rc=$?
  [ $READY = 1 ] && return 0
  log "startup failed (rc=$rc); log tail of $D/moto.log:"
  tail -n 20 "$D/moto.log" >&2 2>/dev/null || true
  if [ -n "$PID" ]; then stop_pid moto_server "$PID" moto_server "$PORT" || true; fi
  rm -f "$D/moto.pid"
  exit "$rc"
}
trap cleanup_on_exit EXIT
trap 'exit 130' INT TERM

moto_ready() { curl -sf -m 2 -o /dev/null "http://127.0.0.1:$PORT/moto-api/data.json"; }

# Start moto; if a free port was lost to a race, try another one.
for attempt in 1 2 3; do
  PORT=${MOTO_PORT:-$(free_port)}
  : >"$D/moto.log"
  INITIAL_NO_AUTH_ACTION_COUNT=3 setsid moto_server -H 127.0.0.1 -p "$PORT" \
    </dev/null >>"$D/moto.log" 2>&1 &
  PID=$!
  disown "$PID"
  echo "$PID $PORT" >"$D/moto.pid"
  log "started moto_server pid $PID on 127.0.0.1:$PORT"
  # /moto-api/ requests do not count against the no-auth window.
  if wait_until "moto on port $PORT" "$MOTO_START_TIMEOUT" "$PID" moto_ready; then break; fi
  stop_pid moto_server "$PID" moto_server "$PORT" || true
  PID=""
  [ -z "${MOTO_PORT:-}" ] && [ $attempt -lt 3 ] || die "moto_server did not come up"
  log "retrying with another port"
done
ENDPOINT=http://127.0.0.1:$PORT

maws() { aws_isolated --endpoint-url "$ENDPOINT" --output text "$@"; }
as_keys() { # ACCESS SECRET COMMAND...
  local ak=$1 sk=$2
  shift 2
  AWS_ACCESS_KEY_ID=$ak AWS_SECRET_ACCESS_KEY=$sk "$@"
}
new_user() { # NAME POLICY-JSON -> prints "ACCESS SECRET" (signed with the admin key)
  as_keys "$ADMIN_AK" "$ADMIN_SK" maws iam create-user --user-name "$1" >/dev/null
  as_keys "$ADMIN_AK" "$ADMIN_SK" maws iam put-user-policy --user-name "$1" \
    --policy-name "$1-policy" --policy-document "$2"
  as_keys "$ADMIN_AK" "$ADMIN_SK" maws iam create-access-key --user-name "$1" \
    --query 'AccessKey.[AccessKeyId,SecretAccessKey]'
}

# ---- the no-auth window: exactly three requests (unsigned keys are ignored) ----
as_keys none none maws iam create-user --user-name admin >/dev/null
as_keys none none maws iam put-user-policy --user-name admin --policy-name admin-all \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
read -r ADMIN_AK ADMIN_SK < <(as_keys none none maws iam create-access-key --user-name admin \
  --query 'AccessKey.[AccessKeyId,SecretAccessKey]')
[ -n "${ADMIN_SK:-}" ] || die "could not create the admin access key"

# ---- enforced from here on ----
# The three set-ups are independent; running them side by side saves seconds.
as_keys "$ADMIN_AK" "$ADMIN_SK" maws s3api create-bucket --bucket "$MOTO_BUCKET" >/dev/null &
bucket_job=$!
new_user backup "$(seed_policy "$MOTO_BUCKET")" >"$D/backup.keys" &
backup_job=$!
new_user nodelete "$(seed_policy "$MOTO_BUCKET" without-delete)" >"$D/nodelete.keys" &
nodelete_job=$!
wait $bucket_job || die "could not create bucket $MOTO_BUCKET"
wait $backup_job || die "could not create user backup"
wait $nodelete_job || die "could not create user nodelete"
read -r BACKUP_AK BACKUP_SK <"$D/backup.keys"
read -r NODEL_AK NODEL_SK <"$D/nodelete.keys"
rm -f "$D/backup.keys" "$D/nodelete.keys"
[ -n "${BACKUP_SK:-}" ] && [ -n "${NODEL_SK:-}" ] || die "could not read the test users' keys"

# Enforcement must be on: a made-up key is rejected.
if as_keys AKIANOTAREALKEY00000 notarealsecret maws s3api list-buckets >/dev/null 2>&1; then
  die "moto accepted an unknown access key: IAM enforcement is not on"
fi

cat >"$D/moto.env" <<EOF
DBB_TEST_MOTO_ENDPOINT=$ENDPOINT
DBB_TEST_MOTO_ACCESS_KEY=$ADMIN_AK
DBB_TEST_MOTO_SECRET_KEY=$ADMIN_SK
DBB_TEST_MOTO_BUCKET=$MOTO_BUCKET
DBB_TEST_MOTO_BACKUP_ACCESS_KEY=$BACKUP_AK
DBB_TEST_MOTO_BACKUP_SECRET_KEY=$BACKUP_SK
DBB_TEST_MOTO_NODELETE_ACCESS_KEY=$NODEL_AK
DBB_TEST_MOTO_NODELETE_SECRET_KEY=$NODEL_SK
EOF
READY=1
log "ready at $ENDPOINT after $((SECONDS - T0))s (state in $D)"
cat "$D/moto.env"
