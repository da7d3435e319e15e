#!/usr/bin/env bash
# bench/write_load.sh - the write-load scenario of issue 5.
#
#   bench/write_load.sh --db DB [--rate 500] [--rounds 3] [--limit 60]
#                       [--sync normal|full] [--work DIR] [--json OUT]
#
# On a copy of DB (the original is never written):
#  1./2. ROUNDS times: an idle `dbbackup backup` (nothing else running), then
#     a loaded one: bench/writer commits RATE small transactions per second
#     (WAL); after 10 s `dbbackup backup` runs; the writer goes on 3 s after
#     it ends. The writer's commits in the 10 s before the backup are the
#     baseline, those that started while the backup ran are "loaded";
#  3. `sqlite3 DB ".backup x"` idle, then under the same load with a time limit
#     (LIMIT s; killed when it expires, which is reported).
# Prints a summary (and writes --json OUT for bench/report.py).
#
# The store is whatever the environment configures for dbbackup (run.sh
# exports the RGW bucket); with none, a local store in DIR is used.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd "$HERE/.." && pwd -P)
BUILD=${DBB_BENCH_BUILD_DIR:-$ROOT/build-bench}
DB="" RATE=500 ROUNDS=3 LIMIT=60 SYNC=normal WORK="" OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --db) DB=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --limit) LIMIT=$2; shift 2 ;;
    --sync) SYNC=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --json) OUT=$2; shift 2 ;;
    *) sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
[ -f "$DB" ] || { echo "write_load.sh: --db must name an existing database" >&2; exit 2; }
WRITER=$BUILD/bench/writer DBB=$BUILD/dbbackup
[ -x "$WRITER" ] && [ -x "$DBB" ] || { echo "write_load.sh: build $BUILD first (bench/run.sh)" >&2; exit 1; }
OWN_WORK=0
if [ -z "$WORK" ]; then WORK=$(mktemp -d); OWN_WORK=1; fi
mkdir -p "$WORK"
WPID=""
cleanup() {
  local rc=$?
  if [ -n "$WPID" ]; then kill "$WPID" 2>/dev/null || true; wait "$WPID" 2>/dev/null || true; fi
  rm -f "$WORK"/wl.db* "$WORK"/cli.db* "$WORK"/*.csv
  [ $OWN_WORK = 1 ] && rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "write_load: $*" >&2; }
now() { date +%s.%N; }

export BACKUP_RETENTION_DAYS=0 BACKUP_TMP_DIR=$WORK
if [ -z "${S3_BACKUP_BUCKET:-}" ]; then
  export BACKUP_LOCAL_DIR=$WORK/store
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
fi
W=$WORK/wl.db
cp "$DB" "$W"
sqlite3 "$W" "PRAGMA journal_mode=WAL" >/dev/null

backup() { # backup OUTJSON -> prints wall seconds
  local t0 t1
  t0=$(now)
  "$DBB" --env-file /dev/null --json --db "$W" backup --no-prune >"$1"
  t1=$(now)
  echo "$t1 - $t0" | bc -l
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

: >"$WORK/idle.txt" >"$WORK/loaded.txt" >"$WORK/base.jsonl" >"$WORK/load.jsonl"
for r in $(seq 1 "$ROUNDS"); do
  # Idle and loaded backups alternate, so drift in the machine's load hits
  # both alike.
  log "round $r/$ROUNDS: idle backup; then writer at $RATE tx/s and a backup after 10 s"
  backup "$WORK/idle-$r.json" >>"$WORK/idle.txt"
  "$WRITER" --db "$W" --rate "$RATE" --sync "$SYNC" --duration 100000 --out "$WORK/w$r.csv" \
    >"$WORK/w$r.json" &
  WPID=$!
  sleep 10
  b0=$(now)
  backup "$WORK/loaded-$r.json" >>"$WORK/loaded.txt"
  b1=$(now)
  sleep 3
  kill -TERM "$WPID"; wait "$WPID" || { echo "write_load.sh: writer failed" >&2; exit 1; }
  WPID=""
  # Baseline: the 10 s before the backup, minus the first second (warm-up).
  w0=$(head -1 "$WORK/w$r.csv" | cut -d, -f1)
  "$WRITER" --stats "$WORK/w$r.csv" --from "$(echo "$w0 + 1" | bc -l)" --to "$b0" \
    --label baseline >>"$WORK/base.jsonl"
  "$WRITER" --stats "$WORK/w$r.csv" --from "$b0" --to "$b1" --label loaded >>"$WORK/load.jsonl"
done
IDLE=$(median <"$WORK/idle.txt")
LOADED=$(median <"$WORK/loaded.txt")

log "sqlite3 .backup idle, then under load (limit ${LIMIT}s)"
rm -f "$WORK/cli.db"
t0=$(now); sqlite3 "$W" ".backup $WORK/cli.db"; t1=$(now)
CLI_IDLE=$(echo "$t1 - $t0" | bc -l)
rm -f "$WORK/cli.db"
"$WRITER" --db "$W" --rate "$RATE" --sync "$SYNC" --duration 100000 --out "$WORK/wc.csv" \
  >"$WORK/wc.json" &
WPID=$!
sleep 5
t0=$(now)
CLI_RC=0
timeout -s KILL "$LIMIT" sqlite3 "$W" ".backup $WORK/cli.db" || CLI_RC=$?
t1=$(now)
kill -TERM "$WPID"; wait "$WPID" || true
WPID=""
CLI_LOADED=$(echo "$t1 - $t0" | bc -l)
CLI_DONE=true; [ $CLI_RC = 0 ] || CLI_DONE=false
"$WRITER" --stats "$WORK/wc.csv" --from "$t0" --to "$t1" --label cli_loaded >"$WORK/cli_w.json"

python3 - "$WORK" "$ROUNDS" "$RATE" "$SYNC" "$IDLE" "$LOADED" "$CLI_IDLE" "$CLI_LOADED" \
  "$CLI_DONE" "$LIMIT" "$CLI_RC" "${OUT:-/dev/null}" <<'EOF'
import json, statistics, sys
work, rounds, rate, sync, idle, loaded, cli_idle, cli_loaded, done, limit, rc, out = sys.argv[1:]
rounds = int(rounds)
def jl(p): return [json.loads(l) for l in open(p) if l.strip()]
base, load = jl(f"{work}/base.jsonl"), jl(f"{work}/load.jsonl")
def medk(rows, k): return statistics.median(r[k] for r in rows)
def agg(rows):
    return {k: medk(rows, k) for k in ["p50_ms", "p99_ms", "p999_ms", "max_ms", "rate_per_s", "commits"]}
bj = lambda f: json.load(open(f))
res = {
    "rate": float(rate), "sync": sync, "rounds": rounds,
    "backup_idle_s": float(idle), "backup_loaded_s": float(loaded),
    "backup_idle_rounds_s": [float(x) for x in open(f"{work}/idle.txt")],
    "backup_loaded_rounds_s": [float(x) for x in open(f"{work}/loaded.txt")],
    "snapshot_idle_s": statistics.median(bj(f"{work}/idle-{r}.json")["snapshot_s"] for r in range(1, rounds + 1)),
    "snapshot_loaded_s": statistics.median(bj(f"{work}/loaded-{r}.json")["snapshot_s"] for r in range(1, rounds + 1)),
    "writer_baseline": agg(base), "writer_loaded": agg(load),
    "writer_rounds": {"baseline": base, "loaded": load},
    "cli_backup": {"idle_s": float(cli_idle), "loaded_s": float(cli_loaded),
                   "finished": done == "true", "limit_s": int(limit), "exit_code": int(rc),
                   "writer": json.load(open(f"{work}/cli_w.json"))},
}
if out != "/dev/null":
    json.dump(res, open(out, "w"), indent=2)
b, l = res["writer_baseline"], res["writer_loaded"]
print(f"backup idle {res['backup_idle_s']:.2f} s, under {rate} tx/s {res['backup_loaded_s']:.2f} s "
      f"({res['backup_loaded_s'] / res['backup_idle_s']:.2f}x); snapshot {res['snapshot_idle_s']:.2f} -> "
      f"{res['snapshot_loaded_s']:.2f} s")
print(f"writer p50 {b['p50_ms']:.2f} -> {l['p50_ms']:.2f} ms, p99 {b['p99_ms']:.2f} -> {l['p99_ms']:.2f} ms "
      f"(+{l['p99_ms'] - b['p99_ms']:.2f}), max {b['max_ms']:.1f} -> {l['max_ms']:.1f} ms, "
      f"{b['rate_per_s']:.0f} -> {l['rate_per_s']:.0f} commits/s")
c = res["cli_backup"]
print(f"sqlite3 .backup: idle {c['idle_s']:.2f} s; under load " +
      (f"finished in {c['loaded_s']:.2f} s" if c["finished"] else f"killed after {c['loaded_s']:.0f} s (did not finish)"))
EOF
