#!/usr/bin/env bash
# bench/run.sh - the end-to-end benchmark of issue 5 (what `make bench` runs).
#
#   bench/run.sh [--size 100M|1G|4G] [--rounds N] [--seed N] [--local]
#                [--no-write-load] [--no-micro] [--no-build] [--tag NAME]
#
# 1. builds build-bench/ (RelWithDebInfo, -DDBB_BUILD_BENCH=ON, no tests) so
#    the shared build/ tree is left alone;
# 2. generates the database (bench/gen_db, cached in bench/.cache/);
# 3. starts Ceph RGW on loopback (scripts/test-env/start-rgw.sh; stopped by
#    pid on exit) and creates a bucket - unless --local, which uses dbbackup's
#    local store and `cp` instead of `aws s3 cp`;
# 4. runs N rounds (default 3), alternating which side goes first:
#      cron:     sqlite3 DB ".backup copy.db" ; gzip -6 copy.db ; aws s3 cp
#      cron restore: aws s3 cp ; gunzip
#      dbbackup backup (gzip), dbbackup backup --compression zstd,
#      dbbackup restore --to (of the gzip and of the zstd backup)
#    each under /usr/bin/time -v (wall time from a monotonic clock around it,
#    peak RSS = the largest process of the command);
# 5. writes bench/results/<date>-<host>[-tag].json and bench/results/latest.md
#    (table of medians + machine info + load average), prints the table;
# 6. runs bench/write_load.sh on a copy of the database (same store) and the
#    micro-benchmarks (dbb_micro_bench), whose results are added to the JSON
#    and latest.md.
#
# Needs: cmake, ninja, sqlite3, gzip, python3, GNU time, the aws CLI and the
# RGW packages (scripts/setup.sh --test installs all of them).
# Everything runs on loopback. Large files live in bench/.cache/ and
# bench/.work/ (gitignored); only results/*.json and results/*.md are meant
# to be committed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/.." && pwd -P)
BUILD=${DBB_BENCH_BUILD_DIR:-$ROOT/build-bench}

SIZE=100M ROUNDS=3 SEED=42 LOCAL=0 WRITE_LOAD=1 MICRO=1 DO_BUILD=1 TAG=""
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --size) SIZE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --local) LOCAL=1; shift ;;
    --no-write-load) WRITE_LOAD=0; shift ;;
    --no-micro) MICRO=0; shift ;;
    --no-build) DO_BUILD=0; shift ;;
    --tag) TAG=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage ;;
  esac
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --rounds wants a positive integer" >&2; exit 2; }
log() { echo "bench: $*" >&2; }

# ---- 1. build ---------------------------------------------------------------
if [ $DO_BUILD = 1 ]; then
  if [ ! -f "$BUILD/build.ninja" ]; then
    # RelWithDebInfo (-O2), the project's release type: -O3 (Release) trips
    # GCC 12's -Wrestrict false positive under -Werror in src/env/file_util.cc.
    cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DDBB_BUILD_BENCH=ON -DDBB_BUILD_TESTS=OFF >&2
  fi
  ninja -C "$BUILD" dbbackup gen_db writer dbb_micro_bench >&2
fi
DBB=$BUILD/dbbackup
for b in "$DBB" "$BUILD/bench/gen_db" "$BUILD/bench/writer"; do
  [ -x "$b" ] || { echo "run.sh: missing $b (run without --no-build)" >&2; exit 1; }
done

# ---- 2. database ------------------------------------------------------------
mkdir -p "$HERE/.cache" "$HERE/results"
DB=$HERE/.cache/db-$SIZE-seed$SEED.db
if [ ! -f "$DB" ]; then
  log "generating $SIZE database (seed $SEED)"
  rm -f "$DB.partial" "$DB.partial-wal" "$DB.partial-shm" "$DB.partial.gen-tmp"
  "$BUILD/bench/gen_db" --out "$DB.partial" --size "$SIZE" --seed "$SEED" >"$DB.gen.json"
  mv "$DB.partial" "$DB"
  sed -i "s|\.partial\"|\"|" "$DB.gen.json"
  rm -f "$DB.partial-wal" "$DB.partial-shm"
fi
cat "$DB.gen.json" >&2
DB_BYTES=$(stat -c %s "$DB")

WORK=$(mktemp -d "$HERE/.work.XXXXXX" 2>/dev/null || mktemp -d)
mkdir -p "$WORK"
RGW_DIR=""
cleanup() {
  local rc=$?
  if [ -n "$RGW_DIR" ] && [ -d "$RGW_DIR" ]; then
    "$ROOT/scripts/test-env/stop-rgw.sh" "$RGW_DIR" --purge >&2 || true
  fi
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 3. store ----------------------------------------------------------------
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
# dbbackup: no .env from the current directory, no retention, plaintext
# objects (the cron pipeline sends no SSE header either), staging in $WORK.
export BACKUP_RETENTION_DAYS=0 BACKUP_SSE=none BACKUP_TMP_DIR=$WORK
unset S3_BACKUP_BUCKET S3_ENDPOINT_URL AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 BACKUP_LOCAL_DIR
if [ $LOCAL = 0 ]; then
  RGW_DIR=$WORK/rgw
  log "starting Ceph RGW"
  "$ROOT/scripts/test-env/start-rgw.sh" "$RGW_DIR" >/dev/null
  set -a; . "$RGW_DIR/rgw.env"; set +a
  export AWS_ACCESS_KEY_ID=$DBB_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$DBB_TEST_RGW_SECRET_KEY
  BUCKET=dbb-bench-$(date +%s)
  aws --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3 mb "s3://$BUCKET" >&2
  export S3_BACKUP_BUCKET=$BUCKET S3_ENDPOINT_URL=$DBB_TEST_RGW_ENDPOINT
  STORE="s3 (Ceph RGW on loopback)"
else
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
  export BACKUP_LOCAL_DIR=$WORK/store
  mkdir -p "$WORK/store" "$WORK/cron-store"
  STORE="local directory"
fi
DBBX=("$DBB" --env-file /dev/null)

# ---- 4. rounds ----------------------------------------------------------------
RUNS=$WORK/runs.tsv   # round name wall_s maxrss_kb out_bytes json
: >"$RUNS"
now() { date +%s.%N; }
# timed NAME ROUND OUTFILE CMD... : runs CMD under /usr/bin/time -v, appends a
# line to $RUNS; CMD's stdout goes to OUTFILE.
timed() {
  local name=$1 round=$2 out=$3; shift 3
  local t0 t1 rc=0
  t0=$(now)
  /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$out" 2>"$WORK/stderr.txt" || rc=$?
  t1=$(now)
  if [ $rc != 0 ]; then
    echo "run.sh: $name failed (rc=$rc):" >&2; cat "$WORK/stderr.txt" >&2; exit 1
  fi
  local rss
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
  printf '%s\t%s\t%s\t%s\n' "$round" "$name" "$(echo "$t1 - $t0" | bc -l)" "$rss" >>"$RUNS"
}

cron_round() {
  local r=$1 W=$WORK/cron
  rm -rf "$W"; mkdir -p "$W"
  # Each stage timed on its own; the pipeline is their sum (they run one
  # after another). Peak RSS of the pipeline = the largest stage.
  timed cron.snapshot "$r" /dev/null sqlite3 "$DB" ".backup $W/copy.db"
  timed cron.gzip "$r" /dev/null gzip -6 "$W/copy.db"
  stat -c %s "$W/copy.db.gz" >"$W/size"
  printf '%s\tcron.size\t%s\t0\n' "$r" "$(cat "$W/size")" >>"$RUNS"
  if [ $LOCAL = 0 ]; then
    timed cron.upload "$r" /dev/null aws --endpoint-url "$S3_ENDPOINT_URL" s3 cp --only-show-errors \
      "$W/copy.db.gz" "s3://$BUCKET/cron/round$r/copy.db.gz"
    rm -f "$W/copy.db.gz"
    timed cron.download "$r" /dev/null aws --endpoint-url "$S3_ENDPOINT_URL" s3 cp --only-show-errors \
      "s3://$BUCKET/cron/round$r/copy.db.gz" "$W/restore.db.gz"
  else
    timed cron.upload "$r" /dev/null cp "$W/copy.db.gz" "$WORK/cron-store/round$r.db.gz"
    rm -f "$W/copy.db.gz"
    timed cron.download "$r" /dev/null cp "$WORK/cron-store/round$r.db.gz" "$W/restore.db.gz"
  fi
  timed cron.gunzip "$r" /dev/null gunzip "$W/restore.db.gz"
  rm -rf "$W"
}

dbb_round() {
  local r=$1 W=$WORK/dbb c
  rm -rf "$W"; mkdir -p "$W"
  for c in gzip zstd; do
    timed "dbb.backup.$c" "$r" "$W/backup-$c.json" "${DBBX[@]}" --json --db "$DB" backup \
      --no-prune --compression "$c"
    printf '%s\tdbb.backup.%s.json\t0\t0\t%s\n' "$r" "$c" "$(tr -d '\n\t' <"$W/backup-$c.json")" >>"$RUNS"
  done
  for c in gzip zstd; do
    local key
    key=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"])' "$W/backup-$c.json")
    rm -f "$W/restored-$c.db"
    timed "dbb.restore.$c" "$r" "$W/restore-$c.json" "${DBBX[@]}" --json restore "$key" \
      --to "$W/restored-$c.db" --no-safety-copy
    printf '%s\tdbb.restore.%s.json\t0\t0\t%s\n' "$r" "$c" "$(tr -d '\n\t' <"$W/restore-$c.json")" >>"$RUNS"
  done
  rm -rf "$W"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "store: $STORE; database: $DB ($DB_BYTES bytes); $ROUNDS rounds; load average $LOAD_BEFORE"
# Warm the page cache for both sides alike.
cat "$DB" >/dev/null
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    log "round $r/$ROUNDS: cron pipeline, then dbbackup"; cron_round "$r"; dbb_round "$r"
  else
    log "round $r/$ROUNDS: dbbackup, then cron pipeline"; dbb_round "$r"; cron_round "$r"
  fi
done
# Probes for the restore's stages that dbbackup does not time itself: the
# checks it runs on the downloaded file (sha256 over the database, SQLite's
# integrity_check) and one more full copy through SQLite's backup API (what
# the replace step does). Download and decompression are the cron rows'.
for r in $(seq 1 "$ROUNDS"); do
  timed probe.sha256sum "$r" /dev/null sha256sum "$DB"
  timed probe.integrity_check "$r" /dev/null sqlite3 "$DB" "PRAGMA integrity_check"
  rm -f "$WORK/probe-copy.db"
  timed probe.sqlite_backup_copy "$r" /dev/null sqlite3 "$DB" ".backup $WORK/probe-copy.db"
  rm -f "$WORK/probe-copy.db"
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 6. write load and micro-benchmarks ------------------------------------------
WL_JSON=$WORK/write_load.json
echo '{}' >"$WL_JSON"
if [ $WRITE_LOAD = 1 ]; then
  log "write-load scenario"
  DBB_BENCH_BUILD_DIR=$BUILD "$HERE/write_load.sh" --db "$DB" --work "$WORK/wl" --json "$WL_JSON" >&2
fi
MICRO_JSON=$WORK/micro.json
echo '{}' >"$MICRO_JSON"
if [ $MICRO = 1 ] && [ -x "$BUILD/bench/dbb_micro_bench" ]; then
  log "micro-benchmarks"
  DBB_MICRO_INPUT=$DB "$BUILD/bench/dbb_micro_bench" --benchmark_repetitions=3 \
    --benchmark_report_aggregates_only=true --benchmark_out="$MICRO_JSON" \
    --benchmark_out_format=json >&2
fi

# ---- 5. report ------------------------------------------------------------------
HOST=$(hostname -s 2>/dev/null || hostname)
STAMP=$(date -u +%Y-%m-%dT%H%M%SZ)
OUT_JSON=$HERE/results/$STAMP-$HOST${TAG:+-$TAG}.json
python3 "$HERE/report.py" --runs "$RUNS" --gen "$DB.gen.json" --db-bytes "$DB_BYTES" \
  --size "$SIZE" --rounds "$ROUNDS" --store "$STORE" --load-before "$LOAD_BEFORE" \
  --load-after "$LOAD_AFTER" --write-load "$WL_JSON" --micro "$MICRO_JSON" \
  --commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --json-out "$OUT_JSON" --md-out "$HERE/results/latest.md"
log "wrote $OUT_JSON and $HERE/results/latest.md"
