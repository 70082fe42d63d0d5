#!/usr/bin/env bash
# A throw-away S3 store on 127.0.0.1 for the s3 plugin's tests and bench: a one-node Ceph cluster
# (one monitor, one memstore OSD, no manager) with the RADOS Gateway in front, every file of it
# under one private directory, no systemd, nothing in /etc/ceph or /var/lib/ceph.
#
#   scripts/s3-local.sh install   apt-get the Ceph packages (root), unless they are there
#   scripts/s3-local.sh start     install if needed, build a fresh cluster, self-test; prints
#                                 the variables below as shell assignments (idempotent)
#   scripts/s3-local.sh stop      stop the daemons this script started (by their pid files), in
#                                 order: gateway, OSD, monitor; then remove the directory
#   scripts/s3-local.sh status    exit 0 when the gateway answers, printing the variables
#   scripts/s3-local.sh kill-rgw  SIGKILL the gateway alone (fault tests); start-rgw starts it again
#
# Settings (environment): S3_LOCAL_DIR (default /tmp/nbdts-s3-local), S3_LOCAL_PORT (7480),
# S3_LOCAL_MON_PORT (13300), S3_LOCAL_STORE_GIB (memstore capacity, 8).
# Printed for clients: S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY, S3_REGION (us-east-1).
set -euo pipefail

DIR=${S3_LOCAL_DIR:-/tmp/nbdts-s3-local}
PORT=${S3_LOCAL_PORT:-7480}
MON_PORT=${S3_LOCAL_MON_PORT:-13300}
STORE_GIB=${S3_LOCAL_STORE_GIB:-8}
ACCESS_KEY=NBDTSLOCALACCESSKEY1
SECRET_KEY=nbdtsLocalSecretKey000000000000000000001
CONF=$DIR/ceph.conf
PACKAGES=(ceph-mon ceph-osd radosgw ceph-common)

say() { echo "s3-local: $*" >&2; }

variables() {
  echo "S3_ENDPOINT=http://127.0.0.1:$PORT"
  echo "S3_ACCESS_KEY=$ACCESS_KEY"
  echo "S3_SECRET_KEY=$SECRET_KEY"
  echo "S3_REGION=us-east-1"
}

install() {
  local missing=()
  for command in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
    command -v "$command" >/dev/null || missing+=("$command")
  done
  command -v curl >/dev/null || PACKAGES+=(curl) # only if absent: naming it would upgrade it
  [ ${#missing[@]} -eq 0 ] && command -v curl >/dev/null && return 0
  say "installing ${PACKAGES[*]}"
  local apt=(apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${PACKAGES[@]}")
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" >"${TMPDIR:-/tmp}/s3-local-apt.log" 2>&1; then
    apt-get update -qq -o DPkg::Lock::Timeout=600 >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive "${apt[@]}" >"${TMPDIR:-/tmp}/s3-local-apt.log" 2>&1 || {
      tail -n 20 "${TMPDIR:-/tmp}/s3-local-apt.log" >&2
      say "apt-get install failed"
      return 1
    }
  fi
}

# The pid of a daemon this script started, if it still runs (a zombie does not count: PID 1
# may reap late), and only if its command line names our configuration.
running_pid() {
  local file=$DIR/run/$1.pid pid state
  [ -f "$file" ] || return 1
  pid=$(cat "$file")
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat")
  [ "$state" != Z ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$CONF" || return 1
  echo "$pid"
}

answers() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Stops one daemon with SIGTERM and waits for it (SIGKILL after 15 s).
stop_one() {
  local pid
  pid=$(running_pid "$1") || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 150); do running_pid "$1" >/dev/null || return 0; sleep 0.1; done
  say "$1 did not stop in 15 s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

stop() {
  stop_one client.rgw.nbdts
  stop_one osd.0
  stop_one mon.a
  if [ -f "$CONF" ]; then rm -rf "$DIR"; fi
}

logs() {
  for log in "$DIR"/log/*.log; do
    [ -f "$log" ] && { echo "--- $log" >&2; tail -n 15 "$log" >&2; }
  done
}

fail() {
  say "$*"
  logs
  stop
  exit 1
}

write_conf() {
  cat >"$CONF" <<EOF
[global]
fsid = $1
mon host = v2:127.0.0.1:$MON_PORT
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
keyring = $DIR/keyring
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon max pg per osd = 1000
mon data avail warn = 2
mon data avail crit = 1
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
mon mgr mkfs grace = 31536000
mon mgr inactive grace = 31536000
paxos propose interval = 0.05
osd objectstore = memstore
memstore device bytes = $((STORE_GIB * 1024 * 1024 * 1024))
[mon]
mon data = $DIR/mon/\$cluster-\$id
[osd]
osd data = $DIR/osd/\$cluster-\$id
[client.rgw.nbdts]
rgw data = $DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$PORT tcp_nodelay=1
rgw enable lc threads = false
rgw thread pool size = 64
EOF
}

start_rgw() {
  radosgw -c "$CONF" -n client.rgw.nbdts || fail "radosgw did not start"
  for _ in $(seq 100); do answers && return 0; sleep 0.1; done
  fail "radosgw does not answer on 127.0.0.1:$PORT"
}

# Create a bucket, PUT 1 MiB, GET a 4 KiB range of it back, delete both: the store works.
self_test() {
  local sign=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$ACCESS_KEY:$SECRET_KEY"
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -s -f --max-time 10)
  local url=http://127.0.0.1:$PORT/s3-local-self-test
  head -c 1048576 /dev/urandom >"$DIR/probe"
  curl "${sign[@]}" -X PUT "$url" -o /dev/null || fail "self-test: create bucket failed"
  curl "${sign[@]}" -T "$DIR/probe" "$url/probe" -o /dev/null || fail "self-test: PUT failed"
  curl "${sign[@]}" -r 4096-8191 "$url/probe" -o "$DIR/probe.range" || fail "self-test: GET failed"
  cmp -s <(tail -c +4097 "$DIR/probe" | head -c 4096) "$DIR/probe.range" ||
    fail "self-test: the range read back differs"
  curl "${sign[@]}" -X DELETE "$url/probe" -o /dev/null || fail "self-test: DELETE failed"
  curl "${sign[@]}" -X DELETE "$url" -o /dev/null || fail "self-test: delete bucket failed"
  rm -f "$DIR/probe" "$DIR/probe.range"
}

start() {
  if running_pid client.rgw.nbdts >/dev/null && answers; then variables; return 0; fi
  install
  if [ -e "$DIR" ] && [ ! -f "$CONF" ] && [ -n "$(ls -A "$DIR")" ]; then
    say "$DIR is not empty and holds no ceph.conf of ours: refusing to wipe it"
    exit 1
  fi
  stop # what is left of an earlier cluster of ours, if anything
  for port in "$PORT" "$MON_PORT"; do
    port_free "$port" || { say "port $port on 127.0.0.1 is taken (S3_LOCAL_PORT, S3_LOCAL_MON_PORT)"; exit 1; }
  done
  mkdir -p "$DIR"/{run,log,crash,mon,osd/ceph-0,rgw}
  local fsid osd_uuid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  write_conf "$fsid"
  local keyring=$DIR/keyring
  ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.admin --cap mon 'allow *' --cap osd 'allow *' \
    --cap mds 'allow *' --cap mgr 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n osd.0 --cap mon 'allow profile osd' \
    --cap mgr 'allow profile osd' --cap osd 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.rgw.nbdts --cap mon 'allow rw' \
    --cap osd 'allow rwx' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" --mkfs -i a --monmap "$DIR/monmap" --keyring "$keyring" ||
    fail "ceph-mon --mkfs failed"
  ceph-mon -c "$CONF" -i a || fail "ceph-mon did not start"
  timeout 30 ceph -c "$CONF" osd new "$osd_uuid" 0 >/dev/null || fail "ceph osd new failed"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 ||
    fail "ceph-osd --mkfs failed"
  ceph-osd -c "$CONF" -i 0 2>/dev/null || fail "ceph-osd did not start"
  for _ in $(seq 300); do
    timeout 5 ceph -c "$CONF" osd stat 2>/dev/null | grep -q '1 up' && break
    sleep 0.1
  done
  timeout 60 radosgw-admin -c "$CONF" user create --uid=nbdts --display-name=nbdts \
    --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >/dev/null ||
    fail "radosgw-admin user create failed"
  start_rgw
  self_test
  variables
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) running_pid client.rgw.nbdts >/dev/null && answers && variables ;;
  kill-rgw)
    pid=$(running_pid client.rgw.nbdts) && kill -KILL "$pid"
    while running_pid client.rgw.nbdts >/dev/null; do sleep 0.05; done
    ;;
  start-rgw) start_rgw ;;
  *)
    echo "usage: $0 install|start|stop|status|kill-rgw|start-rgw" >&2
    exit 2
    ;;
esac
