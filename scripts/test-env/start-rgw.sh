#!/usr/bin/env bash
# start-rgw.sh [DIR] - bring up a throw-away single-node Ceph cluster (1 mon, 1
# memstore OSD, no mgr) plus a radosgw S3 endpoint, bound to 127.0.0.1 only, with
# two S3 users:
#   owner  - an ordinary RGW user; may create buckets (the tests' admin);
#   backup - unprivileged (--max-buckets=-1: may not create buckets). Tests grant
#            it access to a bucket by attaching the seed system's policy as a
#            BUCKET policy with principal arn:aws:iam:::user/backup (see
#            rgw-seed-policy.sh and tests/testing/aws_cli.h).
# Adapted from the investigation in ../shared/tools/ceph-rgw (REPORT.md explains
# every setting below); the project does not use ../shared at run time.
#
# DIR must be empty or absent; default: a fresh mktemp directory. DIR receives the
# cluster (ceph.conf, pids/, log/) and rgw.env: the DBB_TEST_RGW_* variables as
# NAME=value lines, also printed on stdout. Progress goes to stderr.
# Stop with: stop-rgw.sh DIR [--purge]
#
# Environment (all optional):
#   RGW_PORT, MON_PORT   ports (default: free ports chosen at start)
#   RGW_START_TIMEOUT    seconds to wait for each stage (default: 120)
#   RGW_MEMSTORE_BYTES   capacity of the in-RAM object store (default: 4 GiB; RAM is
#                        only used for data actually stored)
#   RGW_SKIP_INSTALL=1   never run scripts/setup.sh --test (fail if binaries are missing)
#   RGW_EXTRA_CONF       extra ceph.conf lines for the [client.rgw.a] section
# The S3 keys are random per cluster.
set -euo pipefail
TE_NAME=start-rgw
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
. "$HERE/lib.sh"

RGW_START_TIMEOUT=${RGW_START_TIMEOUT:-120}
RGW_MEMSTORE_BYTES=${RGW_MEMSTORE_BYTES:-4294967296}
OWNER_UID=owner
BACKUP_UID=backup   # fixed: bucket policies name arn:aws:iam:::user/backup

# ---------------------------------------------------------------- 1. packages
need_bins="ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool curl uuidgen python3"
missing=""
for b in $need_bins; do command -v "$b" >/dev/null 2>&1 || missing="$missing $b"; done
if [ -n "$missing" ]; then
    [ "${RGW_SKIP_INSTALL:-0}" = 1 ] && die "missing binaries:$missing (RGW_SKIP_INSTALL=1)"
    log "missing binaries:$missing; running scripts/setup.sh --test"
    "$HERE/../setup.sh" --test
    for b in $need_bins; do command -v "$b" >/dev/null 2>&1 || die "still missing after setup: $b"; done
fi

# ---------------------------------------------------------------- 2. directory
D=$(make_state_dir "${1:-${RGW_DIR:-}}" dbb-rgw)
mkdir -p "$D"/{mon/a,osd/0,rgw,run,log,crash,pids}
CONF=$D/ceph.conf
cephc() { ceph -c "$CONF" --connect-timeout 15 "$@"; }

MON_PORT=${MON_PORT:-$(free_port)}
RGW_PORT=${RGW_PORT:-$(free_port)}
[ "$MON_PORT" != "$RGW_PORT" ] || RGW_PORT=$(free_port)
ENDPOINT=http://127.0.0.1:$RGW_PORT

# if anything below fails: stop what we started (by our pid files) and show the logs
READY=0
cleanup_on_exit() {
    rc=$?
    [ $READY = 1 ] && return 0
    log "startup failed (rc=$rc); stopping the daemons started here; log tails follow"
    for f in "$D"/log/*; do
        [ -s "$f" ] && { echo "=== $f" >&2; tail -n 15 "$f" >&2; }
    done
    for name in rgw.a osd.0 mon.a; do
        [ -f "$D/pids/$name.pid" ] || continue
        pid=$(cat "$D/pids/$name.pid")
        pid_cmdline_has "$pid" "$CONF" && kill -KILL "$pid" 2>/dev/null && log "killed $name pid $pid"
        rm -f "$D/pids/$name.pid"
    done
    exit $rc
}
trap cleanup_on_exit EXIT
trap 'exit 130' INT TERM

FSID=$(uuidgen)
cat > "$CONF" <<EOF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
run dir = $D/run
pid file = $D/run/\$name.pid
log file = $D/log/\$name.log
crash dir = $D/crash
mon cluster log file = $D/log/cluster.log
keyring = $D/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 1
[mon.a]
mon data = $D/mon/a
# commit map changes (pool creation at first rgw start) every 0.1s instead of 1s
paxos propose interval = 0.1
[osd.0]
osd data = $D/osd/0
keyring = $D/osd/0/keyring
osd objectstore = memstore
memstore device bytes = $RGW_MEMSTORE_BYTES
osd crush initial weight = 1
[client.rgw.a]
keyring = $D/rgw/keyring
rgw data = $D/rgw
rgw frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw thread pool size = 64
# allow x-amz-server-side-encryption* headers over plain http
rgw crypt require ssl = false
# SSE-KMS ("aws:kms") with a static test key; key id "testkey-1"
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = testkey-1=YmluCmJvb3N0CmJvb3N0LWJ1aWxkCmNlcGguY29uZgo= testkey-2=aWIKTWFrZWZpbGUKbWFuCm91dApzcmMKVGVzdGluZwo=
# reclaim deleted objects' data (held in RAM by memstore) after ~1 min instead of 2 h
rgw gc obj min wait = 60
rgw gc processor period = 60
${RGW_EXTRA_CONF:-}
EOF

# start a daemon in the foreground, detached into its own session, record its pid
start_daemon() { # name logname cmd...
    local name=$1; shift
    setsid "$@" -f </dev/null >"$D/log/$name.out" 2>&1 &
    echo $! >"$D/pids/$name.pid"
    disown $!     # no "Killed" job notices from this shell
    log "started $name pid $!"
}
alive() { kill -0 "$(cat "$D/pids/$1.pid")" 2>/dev/null; }
wait_for() { # description deadline-seconds daemon-name command...
    local what=$1 secs=$2 name=$3; shift 3
    local end=$((SECONDS + secs))
    until "$@" >/dev/null 2>&1; do
        alive "$name" || die "$name died while waiting for: $what"
        [ $SECONDS -lt $end ] || die "timeout after ${secs}s waiting for: $what"
        sleep 0.2
    done
}

T0=$SECONDS
# ---------------------------------------------------------------- 3. monitor
log "creating cluster fsid=$FSID in $D (mon port $MON_PORT, rgw port $RGW_PORT)"
ceph-authtool --create-keyring "$D/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool "$D/keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$MON_PORT]" "$D/monmap" >/dev/null
ceph-mon -c "$CONF" --mkfs -i a --monmap "$D/monmap" --keyring "$D/keyring" >"$D/log/mon.a.mkfs" 2>&1
start_daemon mon.a ceph-mon -c "$CONF" -i a
wait_for "mon quorum" "$RGW_START_TIMEOUT" mon.a cephc mon stat

# ---------------------------------------------------------------- 4. OSD (memstore)
OSD_UUID=$(uuidgen)
OSD_SECRET=$(ceph-authtool --gen-print-key)
printf '{"cephx_secret": "%s"}\n' "$OSD_SECRET" >"$D/osd/new.json"
OSD_ID=$(cephc osd new "$OSD_UUID" 0 -i "$D/osd/new.json")
[ "$OSD_ID" = 0 ] || die "unexpected osd id '$OSD_ID'"
ceph-osd -c "$CONF" -i 0 --mkfs --key "$OSD_SECRET" --osd-uuid "$OSD_UUID" >"$D/log/osd.0.mkfs" 2>&1
printf '[osd.0]\n\tkey = %s\n' "$OSD_SECRET" >"$D/osd/0/keyring"
start_daemon osd.0 ceph-osd -c "$CONF" -i 0
osd_up() { cephc osd dump -f json | grep -q '"up":1'; }
wait_for "osd.0 up" "$RGW_START_TIMEOUT" osd.0 osd_up

# ---------------------------------------------------------------- 5. radosgw
cephc auth get-or-create client.rgw.a mon 'allow rw' osd 'allow rwx' mgr 'allow rw' \
    -o "$D/rgw/keyring" >/dev/null
start_daemon rgw.a radosgw -c "$CONF" -n client.rgw.a
# anonymous ListBuckets answers 200 with a ListAllMyBucketsResult document once rgw serves
rgw_ok() { curl -s -m 5 "$ENDPOINT/" | grep -q ListAllMyBucketsResult; }
wait_for "S3 endpoint $ENDPOINT" "$RGW_START_TIMEOUT" rgw.a rgw_ok

# ---------------------------------------------------------------- 6. S3 users
OWNER_AK=$(random_token 20); OWNER_SK=$(random_token 40)
BACKUP_AK=$(random_token 20); BACKUP_SK=$(random_token 40)
radosgw-admin -c "$CONF" user create --uid="$OWNER_UID" --display-name="$OWNER_UID" \
    --access-key="$OWNER_AK" --secret-key="$OWNER_SK" \
    >"$D/log/user-owner.json" 2>"$D/log/user-owner.err"
grep -q "\"$OWNER_AK\"" "$D/log/user-owner.json" || die "user create $OWNER_UID failed"
radosgw-admin -c "$CONF" user create --uid="$BACKUP_UID" --display-name="$BACKUP_UID" \
    --access-key="$BACKUP_AK" --secret-key="$BACKUP_SK" --max-buckets=-1 \
    >"$D/log/user-backup.json" 2>"$D/log/user-backup.err"
grep -q "\"$BACKUP_AK\"" "$D/log/user-backup.json" || die "user create $BACKUP_UID failed"

PIDS=$(cat "$D/pids/mon.a.pid"),$(cat "$D/pids/osd.0.pid"),$(cat "$D/pids/rgw.a.pid")
cat >"$D/rgw.env" <<EOF
DBB_TEST_RGW_ENDPOINT=$ENDPOINT
DBB_TEST_RGW_ACCESS_KEY=$OWNER_AK
DBB_TEST_RGW_SECRET_KEY=$OWNER_SK
DBB_TEST_RGW_BACKUP_ACCESS_KEY=$BACKUP_AK
DBB_TEST_RGW_BACKUP_SECRET_KEY=$BACKUP_SK
DBB_TEST_RGW_CONF=$CONF
EOF
READY=1
log "ready at $ENDPOINT after $((SECONDS - T0))s (pids $PIDS, state in $D)"
cat "$D/rgw.env"
