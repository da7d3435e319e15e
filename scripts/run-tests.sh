#!/usr/bin/env bash
# run-tests.sh - the whole test run (`make test`, and CI through .ci/run):
#   1. scripts/setup.sh --test                      (packages, moto_server, aws CLI)
#   2. build/       RelWithDebInfo, everything      (cmake -G Ninja + ninja)
#   3. build-asan/  -DDBB_SANITIZE=ON, Debug, only the unit test binaries (*_tests
#                   except integration_tests)
#   4. start Ceph RGW and moto_server on loopback (scripts/test-env/up.sh); they
#      are stopped by pid on every exit path (success, failure, Ctrl-C)
#   5. ctest in build/ (unit + integration), with the servers' env file sourced
#   6. stop the servers; ctest -L unit in build-asan/
#   7. a summary; exit status non-zero if any step failed
#
# Usage: scripts/run-tests.sh [--unit]
#   --unit   developer loop: build build/ and run its unit tests only; no
#            servers, no sanitizer tree (`make test-unit`)
# Environment: DBB_TEST_JOBS (ctest -j, default 2), DBB_BUILD_JOBS (ninja -j,
# default ninja's choice), DBB_KEEP_TEST_ENV=1 (leave the servers' state
# directory, with their logs, behind), DBB_ARTIFACT_DIR (where tests keep
# artifacts such as the dashboard's screenshot; default build/artifacts),
# DBB_REQUIRE_BROWSER=1 (the browser test fails instead of skipping without
# chromium; CI=true does the same).
# Works without a terminal or stdin (CI=true, fresh clone).
set -euo pipefail
exec </dev/null

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
UNIT_ONLY=0
for a in "$@"; do
  case "$a" in
    --unit) UNIT_ONLY=1 ;;
    *) echo "usage: scripts/run-tests.sh [--unit]" >&2; exit 2 ;;
  esac
done
JOBS=${DBB_TEST_JOBS:-2}
NINJA_JOBS=()
[ -n "${DBB_BUILD_JOBS:-}" ] && NINJA_JOBS=(-j "$DBB_BUILD_JOBS")

T_START=$SECONDS
SUMMARY=()
FAILED=0
STEP_PID=""
# step NAME COMMAND...: runs one step, records "PASS/FAIL NAME (Ns)". The command
# runs as a job in its own process group, so that an interrupt reaches this
# script at once (ctest survives SIGINT and would carry on) and on_signal can
# stop the whole step: ctest and every test process it started.
step() {
  local name=$1 t0=$SECONDS rc=0
  shift
  echo "==== $name" >&2
  set -m
  "$@" &
  STEP_PID=$!
  set +m
  wait "$STEP_PID" || rc=$?
  STEP_PID=""
  if [ $rc = 0 ]; then
    SUMMARY+=("PASS  $name ($((SECONDS - t0))s)")
  else
    SUMMARY+=("FAIL  $name ($((SECONDS - t0))s, exit $rc)")
    FAILED=1
  fi
  return $rc
}
print_summary() {
  echo "" >&2
  echo "==== summary ($((SECONDS - T_START))s)" >&2
  local line
  for line in "${SUMMARY[@]}"; do echo "  $line" >&2; done
  # Test artifacts (the dashboard test's screenshots).
  local artifacts="${DBB_ARTIFACT_DIR:-$PWD/build/artifacts}"
  if [ -d "$artifacts" ]; then echo "  artifacts: $artifacts" >&2; fi
  if [ $FAILED = 0 ]; then echo "==== ALL PASSED" >&2; else echo "==== FAILED" >&2; fi
}

TEST_ENV_DIR=""
stop_servers() {
  [ -n "$TEST_ENV_DIR" ] || return 0
  local purge=--purge
  [ "${DBB_KEEP_TEST_ENV:-0}" = 1 ] && purge=""
  scripts/test-env/down.sh "$TEST_ENV_DIR" $purge || echo "run-tests: could not stop every server" >&2
  [ -n "$purge" ] || echo "run-tests: server state kept in $TEST_ENV_DIR" >&2
  TEST_ENV_DIR=""
}
on_exit() {
  local rc=$?
  stop_servers
  print_summary
  [ $FAILED = 0 ] || rc=1
  exit $rc
}
on_signal() {
  echo "run-tests: interrupted" >&2
  FAILED=1
  SUMMARY+=("FAIL  interrupted")
  if [ -n "$STEP_PID" ]; then
    kill -TERM -- -"$STEP_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 -- -"$STEP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- -"$STEP_PID" 2>/dev/null
  fi
  exit 130 # on_exit stops the servers
}
trap on_exit EXIT
trap on_signal INT TERM HUP

configure() { # DIR CMAKE-ARGS...: configures DIR once (a CMakeCache.txt means done)
  local dir=$1
  shift
  [ -f "$dir/CMakeCache.txt" ] && [ -f "$dir/build.ninja" ] && return 0
  cmake -S . -B "$dir" -G Ninja "$@"
}
build_release() {
  configure build -DCMAKE_BUILD_TYPE=RelWithDebInfo && ninja -C build "${NINJA_JOBS[@]}"
}
build_asan_units() {
  # Debug (-O0) compiles fastest; -g1 keeps the line tables ASan's reports need.
  configure build-asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-g1 -DDBB_SANITIZE=ON ||
    return 1
  local targets
  targets=$(ninja -C build-asan -t targets all |
    sed -n 's/^\([A-Za-z0-9_]*_tests\): CXX_EXECUTABLE_LINKER.*/\1/p' | grep -vx integration_tests || true)
  if [ -z "$targets" ]; then
    echo "run-tests: no unit test binaries defined yet" >&2
    return 0
  fi
  # shellcheck disable=SC2086
  ninja -C build-asan "${NINJA_JOBS[@]}" $targets
}
start_servers() { # into $TEST_ENV_DIR, chosen by the caller (steps run in a subshell)
  scripts/test-env/up.sh "$TEST_ENV_DIR" >/dev/null
}
ctest_with_servers() {
  (
    set -a
    # shellcheck disable=SC1091
    . "$TEST_ENV_DIR/env"
    set +a
    ctest --test-dir build --output-on-failure -j"$JOBS"
  )
}
ctest_asan_units() {
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    ctest --test-dir build-asan -L unit --output-on-failure -j"$JOBS"
}

if [ $UNIT_ONLY = 1 ]; then
  step "setup (build deps)" scripts/setup.sh
  step "build (build/, RelWithDebInfo)" build_release
  step "unit tests (build/)" ctest --test-dir build -L unit --output-on-failure -j"$JOBS" || true
  exit 0 # on_exit reports and sets the status
fi

step "setup --test" scripts/setup.sh --test
step "build (build/, RelWithDebInfo)" build_release
# The sanitizer tree and the servers are independent of the release tests'
# outcome; keep going so one run shows every failure.
step "build unit tests (build-asan/, ASan+UBSan)" build_asan_units || true
TEST_ENV_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dbb-test-env.XXXXXX")
if step "start S3 servers (Ceph RGW, moto)" start_servers; then
  step "all tests (build/, with S3 servers)" ctest_with_servers || true
fi
stop_servers
if [ -f build-asan/build.ninja ]; then
  step "unit tests (build-asan/, ASan+UBSan)" ctest_asan_units || true
fi
