# Shared helpers for the test-server scripts in scripts/test-env/. Sourced, not run.
# Every helper logs to stderr; stdout is left to the calling script.

# log/die prefix messages with the script's name ($TE_NAME) and the time.
log() { echo "[${TE_NAME:-test-env} $(date +%T)] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# free_port: prints a TCP port on 127.0.0.1 that was free a moment ago. Callers
# must cope with losing the race (the server then fails to bind; retry).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# random_token LEN [ALPHABET]: LEN random characters (default: A-Z0-9), for test keys.
random_token() {
  python3 -c 'import secrets, string, sys
alphabet = sys.argv[2] if len(sys.argv) > 2 else string.ascii_uppercase + string.digits
print("".join(secrets.choice(alphabet) for _ in range(int(sys.argv[1]))))' "$@"
}

# pid_cmdline_has PID WORD...: true if PID is alive and each WORD is one whole
# argument of its command line, or the basename of one. Guards kill against pid
# reuse: a recycled pid belongs to a process with another command line.
pid_cmdline_has() {
  local pid=$1 args word
  shift
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  args=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [ -n "$args" ] || return 1   # a zombie has an empty command line
  for word in "$@"; do
    printf '%s\n' "$args" | grep -qxF -- "$word" ||
      printf '%s\n' "$args" | sed 's#.*/##' | grep -qxF -- "$word" || return 1
  done
}

# stop_pid NAME PID WORD...: SIGTERM, wait up to 10 s, then SIGKILL; only while
# pid_cmdline_has PID WORD... holds. Returns 1 if the process survived.
stop_pid() {
  local name=$1 pid=$2 i
  shift 2
  pid_cmdline_has "$pid" "$@" || return 0
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do pid_cmdline_has "$pid" "$@" || break; sleep 0.1; done
  if pid_cmdline_has "$pid" "$@"; then
    log "$name (pid $pid) did not exit after 10s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    for i in $(seq 1 50); do pid_cmdline_has "$pid" "$@" || break; sleep 0.1; done
  fi
  if pid_cmdline_has "$pid" "$@"; then
    log "could not stop $name (pid $pid)"
    return 1
  fi
  log "stopped $name (pid $pid)"
}

# wait_until DESCRIPTION SECONDS PID COMMAND...: polls COMMAND every 0.2 s until it
# succeeds; dies if PID exits first or the deadline passes.
wait_until() {
  local what=$1 secs=$2 pid=$3 end
  shift 3
  end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || { log "process $pid exited while waiting for: $what"; return 1; }
    [ $SECONDS -lt $end ] || { log "timeout after ${secs}s waiting for: $what"; return 1; }
    sleep 0.2
  done
}

# aws_isolated: the aws CLI with no user configuration, no retries, no instance
# metadata lookups. Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.
aws_isolated() {
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_SESSION_TOKEN -u AWS_ENDPOINT_URL \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
    AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true \
    AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard AWS_PAGER="" \
    aws "$@"
}

# seed_policy BUCKET [without-delete]: the seed system's IAM policy document for
# BUCKET (s3:PutObject, GetObject, ListBucket, DeleteObject on BUCKET and BUCKET/*);
# with "without-delete", the same minus s3:DeleteObject.
seed_policy() {
  local actions='"s3:PutObject","s3:GetObject","s3:ListBucket","s3:DeleteObject"'
  [ "${2:-}" = without-delete ] && actions='"s3:PutObject","s3:GetObject","s3:ListBucket"'
  printf '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[%s],"Resource":["arn:aws:s3:::%s/*","arn:aws:s3:::%s"]}]}' \
    "$actions" "$1" "$1"
}

# make_state_dir DIR PREFIX: creates DIR (must be empty or absent) or, if DIR is
# empty, a fresh mktemp directory; prints its absolute path.
make_state_dir() {
  local dir=$1 prefix=$2
  if [ -z "$dir" ]; then
    dir=$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  (cd "$dir" && pwd -P)
}
