#!/usr/bin/env bash
# s3-throughput.sh [SIZE_MB] - upload and download one SIZE_MB (default 500)
# file of random bytes to a loopback Ceph RGW, with dbbackup's S3 client
# (multipart Put, parallel ranged Get: tests/integration/s3_throughput_test.cc)
# and with `aws s3 cp`, in the same run against the same server, and print
# MB/s for each. Needs build/integration_tests (ninja -C build integration_tests)
# and the aws CLI. Starts RGW with scripts/test-env/start-rgw.sh and always
# stops it (by pid, through stop-rgw.sh).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SIZE_MB=${1:-500}
BUILD=${BUILD:-$HERE/build}
[[ -x $BUILD/integration_tests ]] || { echo "s3-throughput: build $BUILD/integration_tests first" >&2; exit 1; }

WORK=$(mktemp -d /tmp/dbb-s3-throughput.XXXXXX)
RGW_DIR=$WORK/rgw
cleanup() {
  "$HERE/scripts/test-env/stop-rgw.sh" "$RGW_DIR" --purge >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$HERE/scripts/test-env/start-rgw.sh" "$RGW_DIR" >/dev/null 2>"$WORK/rgw.log" ||
  { cat "$WORK/rgw.log" >&2; exit 1; }
set -a; . "$RGW_DIR/rgw.env"; set +a

head -c "$((SIZE_MB * 1024 * 1024))" /dev/urandom >"$WORK/object"
BYTES=$(stat -c %s "$WORK/object")

export AWS_ACCESS_KEY_ID=$DBB_TEST_RGW_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$DBB_TEST_RGW_SECRET_KEY
export AWS_DEFAULT_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
BUCKET=dbb-throughput-$$
aws --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3 mb "s3://$BUCKET" >/dev/null

rate() {  # rate LABEL SECONDS
  awk -v b="$BYTES" -v s="$2" -v l="$1" 'BEGIN { printf "%-20s %6.0f MB in %6.2f s = %7.1f MB/s\n", l, b / 1e6, s, b / 1e6 / s }'
}
now() { date +%s.%N; }

echo "object: $SIZE_MB MiB of random bytes; server: Ceph RGW (memstore) at $DBB_TEST_RGW_ENDPOINT"

# dbbackup's client (multipart upload 8 MiB x 4, ranged download 8 MiB x 4).
DBB_S3_BENCH_FILE=$WORK/object DBB_S3_BENCH_BUCKET=$BUCKET \
  "$BUILD/integration_tests" --gtest_filter='S3Throughput.*' >"$WORK/dbb.log" 2>&1 ||
  { cat "$WORK/dbb.log" >&2; exit 1; }
grep -q '^\[  PASSED  \] 1 test' "$WORK/dbb.log" || { cat "$WORK/dbb.log" >&2; exit 1; }
grep '^dbbackup ' "$WORK/dbb.log" | sed 's/^dbbackup \(upload\|download\): */dbbackup \1 /' |
  awk '{ printf "%-20s %6s MB in %6s s = %7s MB/s\n", $1 " " $2, $3, $6, $9 }'

# aws s3 cp (its defaults: 8 MiB parts, 10 concurrent requests).
t0=$(now)
aws --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3 cp --only-show-errors "$WORK/object" "s3://$BUCKET/aws-object"
t1=$(now)
aws --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3 cp --only-show-errors "s3://$BUCKET/aws-object" "$WORK/aws-download"
t2=$(now)
cmp -s "$WORK/object" "$WORK/aws-download" || { echo "s3-throughput: aws download differs" >&2; exit 1; }
rate "aws-cli upload" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
rate "aws-cli download" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')"
aws --endpoint-url "$DBB_TEST_RGW_ENDPOINT" s3 rb --force "s3://$BUCKET" >/dev/null
