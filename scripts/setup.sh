#!/usr/bin/env bash
# Installs everything dbbackup needs to build and to run its tests, from Debian
# packages. Idempotent: packages already present are not fetched again.
#   scripts/setup.sh          build dependencies only
#   scripts/setup.sh --test   also the S3 test servers (Ceph RGW, moto) and the aws CLI
set -euo pipefail

BUILD_PKGS="build-essential cmake ninja-build pkg-config git ca-certificates
  libsqlite3-dev sqlite3 libcurl4-openssl-dev libssl-dev zlib1g-dev
  libdeflate-dev libzstd-dev libisal-dev
  libcli11-dev nlohmann-json3-dev libpugixml-dev libcpp-httplib-dev libtomlplusplus-dev
  libhowardhinnant-date-dev tzdata
  libgtest-dev libgmock-dev libbenchmark-dev clang-format"
TEST_PKGS="ceph-mon ceph-osd radosgw ceph-common curl openssl uuid-runtime python3 python3-pip procps time
  chromium chromium-driver"

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

pkgs=$BUILD_PKGS
[ $want_test = 1 ] && pkgs="$pkgs $TEST_PKGS"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done

if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "setup: installing Debian packages:$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  # shellcheck disable=SC2086
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >&2
fi

if [ $want_test = 1 ]; then
  # moto_server (S3 + IAM + STS with signature enforcement) and the aws CLI are
  # the independent peers of the integration tests.
  if ! command -v moto_server >/dev/null 2>&1; then
    echo "setup: installing moto_server" >&2
    pip3 install --quiet 'moto[server]' >&2 || pip3 install --quiet --break-system-packages 'moto[server]' >&2 ||
      { echo "setup: could not install moto_server (pip)" >&2; exit 1; }
  fi
  if ! command -v aws >/dev/null 2>&1; then
    echo "setup: installing the aws CLI" >&2
    $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends awscli >&2 ||
      pip3 install --quiet awscli >&2
  fi
fi
echo "setup: dependencies present" >&2
