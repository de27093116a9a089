#!/usr/bin/env bash
# A real single-host Slurm cluster on loopback for tests and for trying `wsi-segment cluster` by hand:
#   scripts/slurm-test-cluster.sh start DIR   # installs slurm-wlm + munge when missing (root), starts munged,
#                                              # slurmctld and two slurmd (virtual nodes n1, n2); idempotent: a
#                                              # daemon already running is kept, a dead one is started again
#   scripts/slurm-test-cluster.sh stop DIR    # cancels the jobs, stops the daemons by their pid files
#   export SLURM_CONF=DIR/slurm.conf          # then sbatch, squeue, scontrol talk to this cluster
# Everything lives in DIR (config, munge key and socket, state, logs, pid files), so it does not touch a system
# Slurm or munge. Ports: SLURM_TEST_PORT (default 17100) for slurmctld, +1 and +2 for the nodes.
# Settings as in ../shared/DESIGN.md: root without systemd, proctrack/linuxproc, task/none, cons_tres,
# ReturnToService=2, SlurmdTimeout=10, RequeueExit=75,137 (wsi-segment's transient-failure code and SIGKILL).
set -euo pipefail

cmd="${1:-}"; DIR="${2:-}"
if [[ -z "$cmd" || -z "$DIR" ]]; then
  echo "usage: $0 start|stop|status DIR" >&2; exit 2
fi
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
# munged runs as the munge user and must reach its key and socket below DIR (mktemp -d makes it 0700).
chmod go+x "$DIR"
PORT="${SLURM_TEST_PORT:-17100}"
NODES=(n1 n2)
log() { echo "slurm-test-cluster: $*" >&2; }

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

# Waits (bounded) for a condition; never hangs the caller.
wait_for() {
  local seconds="$1"; shift
  local end=$((SECONDS + seconds))
  while ! "$@"; do
    ((SECONDS < end)) || return 1
    sleep 0.1
  done
}

install_if_missing() {
  local need=()
  for pkg in slurm-wlm munge; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
  done
  ((${#need[@]})) || return 0
  if [[ $(id -u) -ne 0 ]]; then
    log "missing ${need[*]}; run as root or: sudo apt-get install -y ${need[*]}"; return 1
  fi
  log "installing ${need[*]} with apt-get (waits for the dpkg lock)"
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts must not start system-wide daemons (no systemd here; we start our own below).
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; made_policy=1; fi
  local rc=0
  timeout 900 apt-get -o DPkg::Lock::Timeout=600 update -qq || rc=$?
  if ((rc == 0)); then
    timeout 900 apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}" >/dev/null || rc=$?
  fi
  ((made_policy)) && rm -f "$policy"
  ((rc == 0)) || { log "apt-get failed (exit $rc)"; return 1; }
}

write_config() {
  local host; host="$(hostname -s)"
  mkdir -p "$DIR/state" "$DIR/log" "$DIR/run" "$DIR/munge"
  for n in "${NODES[@]}"; do mkdir -p "$DIR/spool/$n"; done
  cat >"$DIR/slurm.conf" <<EOF
# Written by scripts/slurm-test-cluster.sh: one host, two virtual nodes, loopback only.
ClusterName=wsitest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool/%n
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.%n.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.%n.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdTimeout=10
SlurmctldTimeout=10
MessageTimeout=5
InactiveLimit=0
KillWait=5
MinJobAge=300
MaxArraySize=10001
# wsi-segment exits 75 (EX_TEMPFAIL) for transient failures and signals; 137 is a task killed by SIGKILL.
RequeueExit=75,137
NodeName=n1 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((PORT + 1)) CPUs=1 RealMemory=1000 State=UNKNOWN
NodeName=n2 NodeHostname=$host NodeAddr=127.0.0.1 Port=$((PORT + 2)) CPUs=1 RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=n1,n2 Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
  alive "$DIR/munge/munged.pid" && return 0
  chown munge: "$DIR/munge"; chmod 711 "$DIR/munge"  # munged wants its socket folder reachable by all
  if [[ ! -s "$DIR/munge/munge.key" ]]; then
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chown munge: "$DIR/munge/munge.key"; chmod 400 "$DIR/munge/munge.key"
  fi
  runuser -u munge -- /usr/sbin/munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
    --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
  wait_for 10 alive "$DIR/munge/munged.pid" || { log "munged did not start; see $DIR/munge/munged.log"; return 1; }
}

start_ctld() {
  alive "$DIR/run/slurmctld.pid" && return 0
  /usr/sbin/slurmctld -f "$DIR/slurm.conf"
  wait_for 15 alive "$DIR/run/slurmctld.pid" || { log "slurmctld did not start; see $DIR/log/slurmctld.log"; return 1; }
}

start_node() {
  local n="$1"
  alive "$DIR/run/slurmd.$n.pid" && return 0
  /usr/sbin/slurmd -f "$DIR/slurm.conf" -N "$n"
  wait_for 15 alive "$DIR/run/slurmd.$n.pid" || { log "slurmd $n did not start; see $DIR/log/slurmd.$n.log"; return 1; }
}

nodes_idle() {
  local states
  states="$(SLURM_CONF="$DIR/slurm.conf" timeout 5 sinfo -h -N -o '%N %t' 2>/dev/null)" || return 1
  for n in "${NODES[@]}"; do
    grep -Eq "^$n (idle|mix|alloc)$" <<<"$states" || return 1
  done
}

stop_pid() {
  local file="$1"
  alive "$file" || { rm -f "$file"; return 0; }
  local pid; pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  wait_for 10 bash -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

case "$cmd" in
  start)
    install_if_missing
    [[ -f "$DIR/slurm.conf" ]] || write_config
    start_munge
    start_ctld
    for n in "${NODES[@]}"; do start_node "$n"; done
    # A node that was down (its slurmd killed) comes back by itself with ReturnToService=2; make it explicit.
    SLURM_CONF="$DIR/slurm.conf" timeout 5 scontrol update NodeName="$(IFS=,; echo "${NODES[*]}")" State=RESUME 2>/dev/null || true
    if ! wait_for 30 nodes_idle; then
      log "nodes did not become idle; sinfo says:"; SLURM_CONF="$DIR/slurm.conf" timeout 5 sinfo -N >&2 || true
      exit 1
    fi
    log "up: SLURM_CONF=$DIR/slurm.conf (nodes ${NODES[*]})"
    ;;
  stop)
    if alive "$DIR/run/slurmctld.pid"; then
      # Let running job steps end while their slurmd is still there to reap them.
      SLURM_CONF="$DIR/slurm.conf" timeout 5 scancel --full --quiet -u root 2>/dev/null || true
      wait_for 15 bash -c "[[ -z \"\$(SLURM_CONF='$DIR/slurm.conf' timeout 5 squeue -h -t R,CG 2>/dev/null)\" ]]" || true
    fi
    for n in "${NODES[@]}"; do stop_pid "$DIR/run/slurmd.$n.pid"; done
    stop_pid "$DIR/run/slurmctld.pid"
    stop_pid "$DIR/munge/munged.pid"
    log "stopped ($DIR)"
    ;;
  status)
    SLURM_CONF="$DIR/slurm.conf" timeout 5 sinfo -N
    ;;
  *)
    echo "usage: $0 start|stop|status DIR" >&2; exit 2
    ;;
esac
