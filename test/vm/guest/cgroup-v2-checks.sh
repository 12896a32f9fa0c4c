#!/bin/bash
# cgroup v2 memory-controller checks, run INSIDE the vm tier's guest (as root, cgroup2 on /sys/fs/cgroup,
# swap on the NVMe disk), e.g.
#   test/vm/run-in-vm.sh --swap 1G -- test/vm/guest/cgroup-v2-checks.sh [CHECK...]
# Each check runs in its own child cgroup under a unique prefix, which is killed and removed afterwards.
# Output: one line per check,  CHECK <name> PASS|FAIL <detail>  (io.memwarden.vm.CgroupV2VmTest turns each
# into a JUnit test), plus "#" diagnostic lines. Exit 0 when every check passed, 1 otherwise.
# Environment: MW_JAVA (java launcher; default: java on PATH), MW_GUEST_CP (class path holding
# io.memwarden.vm.guest.*; default: launch the source file, much slower under TCG). The memwarden_balloon check
# needs run-in-vm.sh --balloon --qmp SOCKET and the host's QmpBalloonBridge serving $MW_RESULTS/balloon.
set -u
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
project=$(cd "$here/../../.." && pwd)
HOG=$here/hog.pl
BALLOON_HOG=$here/balloon-hog.pl
JAVA=${MW_JAVA:-java}
CG=/sys/fs/cgroup
MiB=$((1 << 20))
CHECK_TIMEOUT=${MW_CHECK_TIMEOUT:-150}   # seconds per check
# checks that run a whole benchmark (two policies one after the other) under TCG emulation need longer
declare -A CHECK_TIMEOUTS=([memwarden_offload]=360 [memwarden_pressure_guard]=240 [memwarden_balloon]=720
                           [memwarden_bench_density]=480)

PREFIX=$CG/memwarden-vm-checks-$$-$RANDOM
SCRATCH=$(mktemp -d /tmp/memwarden-checks.XXXXXX)

# ---- helpers ---------------------------------------------------------------------------------------
note() { echo "# $*"; }
verdict() { echo "$1" >"$SCRATCH/verdict"; }   # PASS|FAIL + detail, written by the check
pass() { verdict "PASS $*"; }
fail() { verdict "FAIL $*"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1fMiB", b / 1048576 }'; }

event() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$1/$3"; }
mem_event() { event "$1" "$2" memory.events; }
swap_event() { event "$1" "$2" memory.swap.events; }
val() { local v; read -r v <"$1/$2" && echo "$v"; }

new_cgroup() { # new_cgroup NAME [FILE=VALUE...]: creates $PREFIX/$NAME (parents must exist), prints its path
  local cg=$PREFIX/$1 kv; shift
  mkdir "$cg" || return 1
  for kv in "$@"; do
    echo "${kv#*=}" >"$cg/${kv%%=*}" || { echo "cannot write ${kv#*=} to ${kv%%=*}" >&2; return 1; }
  done
  echo "$cg"
}

# start_in CGROUP CMD...: runs CMD in CGROUP in the background; its pid is in $!
start_in() {
  local cg=$1; shift
  ( echo "$BASHPID" >"$cg/cgroup.procs" && exec "$@" ) &
}

# wait_until SECONDS CMD...: polls CMD every 0.2 s until it succeeds; fails after SECONDS
wait_until() {
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
# exited PID: the process is gone or a zombie (kill -0 succeeds on zombies, which stay until waited for)
exited() {
  local s
  { read -r s <"/proc/$1/stat"; } 2>/dev/null || return 0
  s=${s##*) }
  [ "${s%% *}" = Z ]
}
empty_cgroup() { ! grep -q . "$1/cgroup.procs"; }


# kill and remove a cgroup tree (deepest first)
remove_tree() {
  local cg=$1 d
  [ -d "$cg" ] || return 0
  echo 1 >"$cg/cgroup.kill" 2>/dev/null
  wait_until 10 empty_tree "$cg"
  for d in $(find "$cg" -mindepth 1 -depth -type d) "$cg"; do rmdir "$d" 2>/dev/null; done
  [ ! -d "$cg" ] || note "could not remove $cg"
}
empty_tree() { grep -q '^populated 0' "$1/cgroup.events"; }

java_guest() { # java_guest CLASS ARGS...: a program from src/test/java/io/memwarden/vm/guest
  local cls=$1; shift
  if [ -n "${MW_GUEST_CP:-}" ]; then
    "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp "$MW_GUEST_CP" \
      "io.memwarden.vm.guest.$cls" "$@"
  else
    "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC \
      "$project/src/test/java/io/memwarden/vm/guest/$cls.java" "$@"
  fi
}

# ---- checks ----------------------------------------------------------------------------------------
# Each check_<name> runs in a subshell with $PREFIX existing and calls pass/fail once.

check_controllers() { # cgroup2 is mounted with the memory controller usable, PSI files present, swap on
  local ctl sub cg
  ctl=$(cat "$CG/cgroup.controllers"); sub=$(cat "$CG/cgroup.subtree_control")
  cg=$(new_cgroup controllers) || { fail "cannot create a child cgroup"; return; }
  for f in memory.max memory.high memory.low memory.min memory.swap.max memory.swap.current memory.swap.peak \
           memory.reclaim memory.pressure memory.oom.group memory.events memory.swap.events cgroup.kill; do
    [ -e "$cg/$f" ] || { fail "$f missing in a child cgroup (controllers: $ctl; enabled: $sub)"; return; }
  done
  for c in memory pids cpu io; do
    [[ " $sub " == *" $c "* ]] || { fail "$c not enabled at the root (subtree_control: $sub)"; return; }
  done
  local swap_kib
  swap_kib=$(awk '$1 == "SwapTotal:" { print $2 }' /proc/meminfo)
  [ "${swap_kib:-0}" -gt 0 ] || { fail "no swap active"; return; }
  pass "kernel $(uname -r); controllers: $ctl; enabled at root: $sub; swap $((swap_kib / 1024))MiB"
}

check_oom_at_max() { # memory.max: the hog is OOM-killed at the limit; its sibling process survives
  local cg sleeper hog st kills peak
  cg=$(new_cgroup oom_at_max memory.max=64M memory.swap.max=0) || { fail "setup"; return; }
  start_in "$cg" sleep 600; sleeper=$!
  start_in "$cg" perl "$HOG" $((128 * MiB)); hog=$!
  wait_until 60 exited "$hog" || { fail "128MiB hog still alive after 60s under memory.max=64M"; return; }
  wait "$hog"; st=$?
  kills=$(mem_event "$cg" oom_kill); peak=$(val "$cg" memory.peak)
  if [ "$st" = 137 ] && [ "$kills" -ge 1 ] && ! exited "$sleeper" && [ "$peak" -le $((64 * MiB)) ]; then
    pass "hog killed by SIGKILL (status $st), oom_kill=$kills, memory.peak=$(mib "$peak") <= 64MiB, other process alive"
  else
    fail "hog status $st (want 137), oom_kill=$kills (want >=1), memory.peak=$(mib "$peak"), sleeper alive: $(! exited "$sleeper" && echo yes || echo no)"
  fi
}

check_swap_max_zero() { # memory.swap.max=0: no swap use under pressure at memory.high and at memory.max
  local cg hog st high max kills swap samples=0 nonzero=0 peak deadline=$((SECONDS + 90))
  cg=$(new_cgroup swap_max_zero memory.swap.max=0 memory.high=56M memory.max=64M) || { fail "setup"; return; }
  start_in "$cg" perl "$HOG" $((128 * MiB)); hog=$!
  while ! exited "$hog" && [ "$SECONDS" -lt "$deadline" ]; do
    read -r swap <"$cg/memory.swap.current"; samples=$((samples + 1))
    [ "$swap" = 0 ] || nonzero=$((nonzero + 1))
    sleep 0.1
  done
  ! exited "$hog" && { fail "128MiB hog still alive after 90s under memory.max=64M"; return; }
  wait "$hog"; st=$?
  high=$(mem_event "$cg" high); max=$(mem_event "$cg" max); kills=$(mem_event "$cg" oom_kill)
  peak=$(val "$cg" memory.swap.peak)
  if [ "$nonzero" = 0 ] && [ "$peak" = 0 ] && [ "$high" -ge 1 ] && [ "$max" -ge 1 ] && [ "$kills" -ge 1 ]; then
    pass "memory.swap.current 0 in $samples samples, memory.swap.peak 0; events high=$high max=$max oom_kill=$kills; hog status $st"
  else
    fail "swap.current nonzero in $nonzero/$samples samples, swap.peak=$peak; events high=$high max=$max oom_kill=$kills; hog status $st"
  fi
}

check_swap_max_cap() { # a numeric memory.swap.max caps memory.swap.current
  local cg hog st peak swmax kills samples=0 over=0 cur deadline=$((SECONDS + 90))
  cg=$(new_cgroup swap_max_cap memory.max=64M memory.swap.max=32M) || { fail "setup"; return; }
  start_in "$cg" perl "$HOG" $((160 * MiB)); hog=$!
  while ! exited "$hog" && [ "$SECONDS" -lt "$deadline" ]; do
    read -r cur <"$cg/memory.swap.current"; samples=$((samples + 1))
    [ "$cur" -le $((32 * MiB)) ] || over=$((over + 1))
    sleep 0.1
  done
  ! exited "$hog" && { fail "160MiB hog still alive after 90s with memory.max=64M, swap.max=32M"; return; }
  wait "$hog"; st=$?
  peak=$(val "$cg" memory.swap.peak); swmax=$(swap_event "$cg" max); kills=$(mem_event "$cg" oom_kill)
  if [ "$over" = 0 ] && [ "$peak" -le $((32 * MiB)) ] && [ "$peak" -ge $((24 * MiB)) ] && [ "$kills" -ge 1 ]; then
    pass "memory.swap.peak $(mib "$peak") (cap 32MiB, filled >= 24MiB), never above in $samples samples; swap.events max=$swmax; oom_kill=$kills (hog status $st)"
  else
    fail "memory.swap.peak $(mib "$peak") (want 24..32MiB), above the cap in $over/$samples samples; swap.events max=$swmax; oom_kill=$kills; hog status $st"
  fi
}

check_high_throttles() { # memory.high: charges above it raise 'high' events and are reclaimed into swap
  local cg hog high cur swap start took
  cg=$(new_cgroup high_throttles memory.high=32M) || { fail "setup"; return; }
  start=$SECONDS
  start_in "$cg" perl "$HOG" $((96 * MiB)) "$SCRATCH/high.ready"; hog=$!
  wait_until 120 test -e "$SCRATCH/high.ready" || { fail "96MiB hog did not finish touching its memory in 120s"; return; }
  took=$((SECONDS - start))
  high=$(mem_event "$cg" high); cur=$(val "$cg" memory.current); swap=$(val "$cg" memory.swap.current)
  if [ "$high" -ge 1 ] && [ "$cur" -le $((40 * MiB)) ] && [ "$swap" -ge $((48 * MiB)) ]; then
    pass "events high=$high; memory.current $(mib "$cur") (high 32MiB); memory.swap.current $(mib "$swap"); hog needed ${took}s"
  else
    fail "events high=$high (want >=1); memory.current $(mib "$cur") (want <= 40MiB); memory.swap.current $(mib "$swap") (want >= 48MiB)"
  fi
}

check_reclaim_to_swap() { # memory.reclaim pushes anonymous memory to swap
  local cg hog s0 s1 m0 m1 werr=""
  cg=$(new_cgroup reclaim_to_swap) || { fail "setup"; return; }
  start_in "$cg" perl "$HOG" $((96 * MiB)) "$SCRATCH/reclaim.ready"; hog=$!
  wait_until 60 test -e "$SCRATCH/reclaim.ready" || { fail "96MiB hog not ready in 60s"; return; }
  s0=$(val "$cg" memory.swap.current); m0=$(val "$cg" memory.current)
  echo 48M >"$cg/memory.reclaim" 2>"$SCRATCH/reclaim.err" || werr=" (write: $(cat "$SCRATCH/reclaim.err"))"
  s1=$(val "$cg" memory.swap.current); m1=$(val "$cg" memory.current)
  if [ $((s1 - s0)) -ge $((32 * MiB)) ] && [ $((m0 - m1)) -ge $((32 * MiB)) ]; then
    pass "after writing 48M to memory.reclaim: memory.swap.current $(mib "$s0") -> $(mib "$s1"), memory.current $(mib "$m0") -> $(mib "$m1")$werr"
  else
    fail "after writing 48M to memory.reclaim: memory.swap.current $(mib "$s0") -> $(mib "$s1") (want +32MiB), memory.current $(mib "$m0") -> $(mib "$m1")$werr"
  fi
}

# parent with memory.max=192M; A holds 80MiB, then B needs 160MiB: reclaim must come from B only when A has
# memory.min; without it (the control run) A loses memory too
min_scenario() { # min_scenario NAME A_MIN: prints "A_swap A_current B_swap B_current"
  local p a b ha hb
  p=$(new_cgroup "$1" memory.max=192M cgroup.subtree_control=+memory) || return 1
  a=$(new_cgroup "$1/a" "memory.min=$2") || return 1
  b=$(new_cgroup "$1/b") || return 1
  start_in "$a" perl "$HOG" $((80 * MiB)) "$SCRATCH/$1.a.ready"; ha=$!
  wait_until 60 test -e "$SCRATCH/$1.a.ready" || return 1
  start_in "$b" perl "$HOG" $((160 * MiB)) "$SCRATCH/$1.b.ready"; hb=$!
  wait_until 120 test -e "$SCRATCH/$1.b.ready" || return 1
  echo "$(val "$a" memory.swap.current) $(val "$a" memory.current) $(val "$b" memory.swap.current) $(val "$b" memory.current)"
  remove_tree "$p" >&2
}

check_min_protects() { # memory.min protects a cgroup from reclaim caused by a sibling under the parent's limit
  local ctl prot ca_s ca_m cb_s cb_m pa_s pa_m pb_s pb_m
  ctl=$(min_scenario min_control 0) || { fail "control run (no memory.min) did not complete"; return; }
  prot=$(min_scenario min_protected 96M) || { fail "protected run did not complete"; return; }
  read -r ca_s ca_m cb_s cb_m <<<"$ctl"
  read -r pa_s pa_m pb_s pb_m <<<"$prot"
  local detail="with memory.min=96M: A swap $(mib "$pa_s") resident $(mib "$pa_m"), B swap $(mib "$pb_s");"
  detail+=" control without memory.min: A swap $(mib "$ca_s") resident $(mib "$ca_m"), B swap $(mib "$cb_s")"
  if [ "$pa_s" -le $((2 * MiB)) ] && [ "$pa_m" -ge $((80 * MiB)) ] && [ "$pb_s" -ge $((40 * MiB)) ]; then
    pass "$detail"
  else
    fail "$detail (want A swap <= 2MiB, A resident >= 80MiB, B swap >= 40MiB)"
  fi
}

check_psi_trigger() { # a PSI trigger on the cgroup's memory.pressure fires (poll POLLPRI) under memory pressure
  local cg probe hog st out some
  cg=$(new_cgroup psi_trigger memory.high=32M) || { fail "setup"; return; }
  java_guest PsiTriggerProbe "$cg/memory.pressure" "some 100000 1000000" 2000 "$SCRATCH/psi.ready" 90000 \
    >"$SCRATCH/psi.out" 2>&1 &
  probe=$!
  wait_until 60 test -e "$SCRATCH/psi.ready" || {
    kill "$probe" 2>/dev/null; fail "PSI probe not armed in 60s: $(tr '\n' ' ' <"$SCRATCH/psi.out")"; return; }
  start_in "$cg" perl "$HOG" $((128 * MiB)); hog=$!
  wait_until 100 exited "$probe"
  wait "$probe"; st=$?
  out=$(tr '\n' ';' <"$SCRATCH/psi.out")
  some=$(awk '$1 == "some" { print $5 }' "$cg/memory.pressure")
  if [ "$st" = 0 ]; then
    pass "trigger 'some 100ms/1s' quiet while idle, then fired under memory.high=32M with a 128MiB hog: $out memory.pressure some $some"
  else
    fail "probe exit $st: $out memory.pressure some $some"
  fi
}

check_oom_group() { # memory.oom.group=1: an OOM kills every process of the cgroup
  local cg s1 s2 hog st1 st2 sth kills gkills
  cg=$(new_cgroup oom_group memory.max=64M memory.swap.max=0 memory.oom.group=1) || { fail "setup"; return; }
  start_in "$cg" sleep 600; s1=$!
  start_in "$cg" sleep 600; s2=$!
  start_in "$cg" perl "$HOG" $((128 * MiB)); hog=$!
  wait_until 60 empty_cgroup "$cg" || { fail "processes left after 60s: $(tr '\n' ' ' <"$cg/cgroup.procs")"; return; }
  wait "$s1"; st1=$?; wait "$s2"; st2=$?; wait "$hog"; sth=$?
  kills=$(mem_event "$cg" oom_kill); gkills=$(mem_event "$cg" oom_group_kill)
  if [ "$st1" = 137 ] && [ "$st2" = 137 ] && [ "$sth" = 137 ] && [ "$gkills" -ge 1 ]; then
    pass "hog and both idle processes killed by SIGKILL; oom_group_kill=$gkills oom_kill=$kills"
  else
    fail "exit statuses hog=$sth sleepers=$st1,$st2 (want 137 each); oom_group_kill=$gkills oom_kill=$kills"
  fi
}

check_memwarden_node_swap_cap() { # memwarden's loops write the node swap cap on kubepods; a pod cannot swap past it
  local jar=$project/target/memwarden.jar root kp pod out st hog peak cur samples=0 over=0 kills
  local deadline=$((SECONDS + 90))
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  root=$(new_cgroup node) && echo +memory >"$root/cgroup.subtree_control" && kp=$(new_cgroup node/kubepods) \
    && echo +memory >"$kp/cgroup.subtree_control" && pod=$(new_cgroup node/kubepods/pod memory.max=64M) \
    || { fail "setup"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -cp "$jar:${MW_GUEST_CP:-$project/target/test-classes}" io.memwarden.vm.guest.NodeSwapCapProbe "$root" \
        $((32 * MiB)) 2>&1); st=$?
  sed 's/^/# probe: /' <<<"$out" >&2
  [ "$st" = 0 ] && [ "$(val "$kp" memory.swap.max)" = $((32 * MiB)) ] \
    || { fail "probe exit $st; kubepods memory.swap.max=$(val "$kp" memory.swap.max) (want $((32 * MiB)))"; return; }
  start_in "$pod" perl "$HOG" $((160 * MiB)); hog=$!
  while ! exited "$hog" && [ "$SECONDS" -lt "$deadline" ]; do
    read -r cur <"$kp/memory.swap.current"; samples=$((samples + 1))
    [ "$cur" -le $((32 * MiB)) ] || over=$((over + 1))
    sleep 0.1
  done
  ! exited "$hog" && { fail "160MiB hog alive after 90s: pod memory.max=64M, kubepods swap cap 32MiB"; return; }
  peak=$(val "$kp" memory.swap.peak); kills=$(mem_event "$pod" oom_kill)
  if [ "$over" = 0 ] && [ "$peak" -le $((32 * MiB)) ] && [ "$peak" -ge $((24 * MiB)) ] && [ "$kills" -ge 1 ] \
     && grep -q '^noswap=true' <<<"$out"; then
    pass "kubepods memory.swap.max=32MiB written by the loops; kubepods swap.peak $(mib "$peak"), never above in $samples samples; pod oom_kill=$kills; $(grep '^noswap=' <<<"$out")"
  else
    fail "kubepods swap.peak $(mib "$peak") (want 24..32MiB), above the cap in $over/$samples samples; pod oom_kill=$kills; $(grep '^noswap=' <<<"$out")"
  fi
}

check_memwarden_demo() { # memwarden's own demo on cgroup v2: plan -> validated writer -> runner, three swap classes
  local jar=$project/target/memwarden.jar out st
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" demo --timeout 120s 2>&1); st=$?
  sed 's/^/# demo: /' <<<"$out" >&2
  if [ "$st" = 0 ] && grep -q "verdict: the three swap classes behave as configured" <<<"$out"; then
    pass "$(awk '/^c[0-9]-/ {printf "%s VmRSS=%s VmSwap=%s; ", $1, $4, $5}' <<<"$out")$(grep -o 'memory.swap.max=[^ ]*' <<<"$out" | tr '\n' ' ')"
  else
    fail "exit $st: $(grep -E 'FAIL|memwarden demo:|Exception' <<<"$out" | head -3 | tr '\n' ' ')"
  fi
}

check_memwarden_doctor() { # memwarden doctor -o json in the guest: cgroup v2, swap (the guest has some) reported ready
  local jar=$project/target/memwarden.jar out st
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" doctor -o json 2>"$SCRATCH/doctor.err"); st=$?
  sed 's/^/# doctor: /' <<<"$out" >&2
  sed 's/^/# doctor stderr: /' "$SCRATCH/doctor.err" >&2
  local v swap overall
  v=$(grep -o '"cgroupVersion": [0-9]*' <<<"$out" | grep -o '[0-9]*$')
  swap=$(grep -A1 '"name": "swap"' <<<"$out" | grep -o '"status": "[a-z-]*"' | cut -d'"' -f4)
  overall=$(grep -o '"overall": "[a-z]*"' <<<"$out" | cut -d'"' -f4)
  if { [ "$st" = 0 ] || [ "$st" = 3 ]; } && [ "$v" = 2 ] && [ "$swap" = ready ]; then
    pass "exit $st, overall $overall, cgroupVersion $v, swap $swap: $(grep -A2 '"name": "swap"' <<<"$out" | grep -o '"detail": .*' | head -1)"
  else
    fail "exit $st, overall ${overall:-?}, cgroupVersion ${v:-?} (want 2), swap ${swap:-?} (want ready)"
  fi
}

check_memwarden_throttle_relief() { # memwarden's throttle relief keeps a container at memory.high allocating
  local jar=$project/target/memwarden.jar out st none mw
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" bench throttle --duration 45s --out "$SCRATCH/bench" 2>&1); st=$?
  sed 's/^/# bench: /' <<<"$out" >&2
  none=$(grep -o '^throttle none: .*' <<<"$out")
  mw=$(grep -o '^throttle memwarden: .*' <<<"$out")
  if [ "$st" = 0 ] && grep -q 'finished=true' <<<"$mw" && ! grep -q 'finished=true' <<<"$none"; then
    pass "without relief: ${none#throttle none: }; with relief: ${mw#throttle memwarden: }"
  else
    fail "exit $st; without relief: ${none:-?}; with relief: ${mw:-?}"
  fi
}

check_memwarden_offload() { # memwarden's cold offloader moves a cold set out, the hot set stays: v2's default
  # (memory.reclaim) against no agent, then cold ranges (--v2-method madvise: clear_refs sampling, process_madvise)
  local jar=$project/target/memwarden.jar out out2 st st2 j j2
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" bench offload --policies none,memwarden --workloads 1 --hot 16 --cold 64 --duration 60s \
        --out "$SCRATCH/offload" 2>&1); st=$?
  sed 's/^/# bench: /' <<<"$out" >&2
  out2=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" bench offload --policies memwarden --v2-method madvise --workloads 1 --hot 16 --cold 64 \
        --duration 40s --out "$SCRATCH/offload-ranges" 2>&1); st2=$?
  sed 's/^/# bench ranges: /' <<<"$out2" >&2
  j=$SCRATCH/offload/offload.json
  j2=$SCRATCH/offload-ranges/offload.json
  local none mw ranges q='{v2Method} + (.policies[] | select(.policy == "memwarden") | {offloadRatio, secondsToNinetyPercent, hotPromotionPerMinutePercent, offloadedHotBytesAtEnd, psiSomeAvg10Max})'
  none=$(jq -c '.policies[] | select(.policy == "none") | {offloadRatio, hotPromotionPerMinutePercent}' "$j" 2>/dev/null)
  mw=$(jq -c "$q" "$j" 2>/dev/null)
  ranges=$(jq -c "$q" "$j2" 2>/dev/null)
  # measured (docs/benchmarks.md), of a 64 MiB cold and a 16 MiB hot set: memory.reclaim 77-81 % out after 60 s
  # (59 % after 45 s under single-threaded TCG, hence 60 s);
  # cold ranges 97-100 % out, 90 % after 13-24 s; both leave 4 KiB of the hot set out
  if [ "$st" = 0 ] && [ "$st2" = 0 ] &&
     jq -e '.policies[] | select(.policy == "memwarden") | .offloadRatio >= 0.5 and .offloadedHotBytesAtEnd <= 1048576' "$j" >/dev/null 2>&1 &&
     jq -e '.v2Method == "madvise" and (.policies[] | select(.policy == "memwarden") | .offloadRatio >= 0.9 and .offloadedHotBytesAtEnd <= 1048576)' "$j2" >/dev/null 2>&1 &&
     jq -e '.policies[] | select(.policy == "none") | .offloadRatio < 0.2' "$j" >/dev/null 2>&1; then
    pass "no agent: $none; memwarden: $mw; cold ranges: $ranges"
  else
    fail "exit $st/$st2; no agent: ${none:-?}; memwarden: ${mw:-?}; cold ranges: ${ranges:-?}; $(grep -hE 'memwarden bench|Exception' <<<"$out$out2" | head -2 | tr '\n' ' ')"
  fi
}

check_memwarden_pressure_guard() { # the pressure guard acts before the kernel OOM killer, the protected pod lives
  local jar=$project/target/memwarden.jar out st j
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  out=$("$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" bench pressure --policies none,memwarden --runs 2 --out "$SCRATCH/pressure" 2>&1); st=$?
  sed 's/^/# bench: /' <<<"$out" >&2
  j=$SCRATCH/pressure/pressure.json
  local none mw
  none=$(jq -c '.policies[] | select(.policy == "none") | {runs, kernelOomKills, protectedKilled}' "$j" 2>/dev/null)
  mw=$(jq -c '.policies[] | select(.policy == "memwarden") | {runs, kernelOomKills, protectedKilled, hogKilledByAgent, actionLatencyMillisP50, actionLatencyMillisMax}' "$j" 2>/dev/null)
  if [ "$st" = 0 ] && jq -e '.policies[] | select(.policy == "memwarden") | .kernelOomKills == 0 and .protectedKilled == 0 and .hogKilledByAgent == .runs' "$j" >/dev/null 2>&1; then
    pass "no agent: $none; memwarden: $mw"
  else
    fail "exit $st; no agent: ${none:-?}; memwarden: ${mw:-?}; $(grep -E 'memwarden bench|Exception' <<<"$out" | head -2 | tr '\n' ' ')"
  fi
}

check_memwarden_bench_density() { # bench density, the short v2 variant: pods at SLO per policy (none, the kubelet's
  # LimitedSwap as memory.swap.max, memwarden) in a 512 MiB node with 512 MiB of the guest's swap, replicas of 4 MiB
  # hot + 48 MiB cold (a small hot set keeps TCG's CPU from breaking the rate SLO before memory does)
  local jar=$project/target/memwarden.jar out st j pol
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  # MEMWARDEN_DEBUG=1: an internal error's stack trace lands in this check's # lines (test output, not a user's)
  out=$(MEMWARDEN_DEBUG=1 "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto \
        -jar "$jar" bench density --node-size 512Mi --node-swap 512Mi --hot 4Mi --cold 48Mi --max-pods 18 \
        --step-seconds 4 --slo-rate 0.8 --out "$SCRATCH/density" 2>&1); st=$?
  sed 's/^/# bench: /' <<<"$out" >&2
  j=$SCRATCH/density/density.json
  pol=$(jq -c '[.policies[] | {policy, podsAtSlo, sloBrokenBy}]' "$j" 2>/dev/null)
  # asserted: the bench runs on v2 and every policy holds a pod at SLO; the counts are measured and reported (under
  # TCG the rate SLO is CPU-bound, so they are not asserted: 2026-12-07 none 9, limitedswap 11, memwarden 17)
  if [ "$st" = 0 ] && jq -e '.cgroupVersion == 2 and ([.policies[] | .podsAtSlo >= 1] | all)
        and ([.policies[].policy] == ["none", "limitedswap", "memwarden"])' "$j" >/dev/null 2>&1; then
    pass "policies: $pol; bounds: $(jq -c .bounds "$j"); solo $(jq -r .soloRatePagesPerSecond "$j") pages/s"
  else
    fail "exit $st; policies: ${pol:-?}; $(grep -hE 'memwarden bench|Exception' <<<"$out" | head -2 | tr '\n' ' ')"
  fi
}

# ---- the balloon (the node is a VM) -----------------------------------------------------------------
# The guest has no network: it asks the host to move the balloon through the results share. A request is a file
# $MW_RESULTS/balloon/request.ID ("query", or "set BYTES": the guest's new memory size), renamed into place whole; the
# host's QmpBalloonBridge (src/test/java/io/memwarden/vm) answers in reply.ID: "ok actual=BYTES" or "error ...".
balloon_request() { # balloon_request CMD: prints the host's reply line; status 1 (and an "error ..." line) without one
  local d=${MW_RESULTS:-}/balloon id="$BASHPID.$RANDOM.${EPOCHREALTIME/./}"
  [ -n "${MW_RESULTS:-}" ] || { echo "error no MW_RESULTS: not started by run-in-vm.sh"; return 1; }
  mkdir -p "$d" 2>/dev/null || { echo "error cannot create $d"; return 1; }
  { printf '%s\n' "$1" >"$d/request.$id.tmp" && mv "$d/request.$id.tmp" "$d/request.$id"; } 2>/dev/null ||
    { echo "error cannot write $d/request.$id"; return 1; }
  wait_until 15 test -s "$d/reply.$id" ||
    { echo "error no reply from the host in 15s (the host serves $d with QmpBalloonBridge; test/vm/README.md)"; return 1; }
  head -n 1 "$d/reply.$id"
}
# the balloon's size in bytes as the kernel counts it: meminfo Balloon (recent kernels), else vmstat nr_balloon_pages,
# else balloon_inflate - balloon_deflate (6.12)
balloon_bytes() {
  awk '
    FILENAME == "/proc/meminfo" && $1 == "Balloon:" { kib = $2; mi = 1 }
    FILENAME == "/proc/vmstat" && $1 == "nr_balloon_pages" { nr = $2; hasnr = 1 }
    FILENAME == "/proc/vmstat" && $1 == "balloon_inflate" { inf = $2 }
    FILENAME == "/proc/vmstat" && $1 == "balloon_deflate" { def = $2 }
    END { if (mi) printf "%.0f\n", kib * 1024; else if (hasnr) printf "%.0f\n", nr * 4096;
          else printf "%.0f\n", (inf - def) * 4096 }' /proc/meminfo /proc/vmstat
}
# the node's memory "full" stall time so far in microseconds (every task stalled on memory: /proc/pressure/memory)
psi_full_us() { awk '$1 == "full" { for (i = 2; i <= NF; i++) if ($i ~ /^total=/) print substr($i, 7) }' /proc/pressure/memory; }
oom_kills() { awk '$1 == "oom_kill" { print $2; f = 1 } END { if (!f) print 0 }' /proc/vmstat; }
stamp() { local l; while IFS= read -r l; do printf '%s %s\n' "$EPOCHREALTIME" "$l"; done; }
secs_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# balloon_deflate PHYS: gives the guest all its memory back, waits (60 s) until the balloon is (nearly) empty
balloon_deflate() {
  balloon_request "set $1" >/dev/null
  local deadline=$((SECONDS + 60))
  while [ "$(balloon_bytes)" -gt $((16 * MiB)) ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
}

# balloon_scenario none|memwarden PHYS: a hog holds 30 % of the guest; the host shrinks the guest to half; then the
# hog grows to 75 %. Prints key=value pairs.
balloon_scenario() {
  local policy=$1 phys=$2 s=$SCRATCH/balloon-$1 jar=$project/target/memwarden.jar
  local keep=$(($2 / 2)) first=$(($2 * 3 / 10)) total=$(($2 * 3 / 4)) share=$(($2 / 10))
  local oom0 oom1 r mw="" cg="" hogpid t_set t_cross="" t_full="" t_go t_end full0 full1 b max=0 deadline notice=""
  local acted evicted alive
  mkdir -p "$s"
  oom0=$(oom_kills)
  if [ "$policy" = memwarden ]; then
    cat >"$s/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hog, namespace: balloon}
spec:
  containers:
    - name: grow
      command: [perl, "$BALLOON_HOG", "$first", "$s/ready", "$s/go", "$total"]
YAML
    mkfifo "$s/mw.fifo"
    stamp <"$s/mw.fifo" >"$s/mw.log" &
    "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Xmx128m \
      -jar "$jar" run -f "$s/pod.yaml" --loops guard --duration 300s >/dev/null 2>"$s/mw.fifo" &
    mw=$!
  else
    cg=$(new_cgroup balloon_none memory.swap.max=0) || { echo "error=cannot create a cgroup"; return; }
    start_in "$cg" perl "$BALLOON_HOG" "$first" "$s/ready" "$s/go" "$total" >/dev/null
  fi
  if ! wait_until 120 test -s "$s/ready"; then
    echo "error=the hog did not hold $(mib "$first") within 120s"
    [ -n "$mw" ] && { kill -TERM "$mw"; wait_until 30 exited "$mw"; sed 's/^/# mw: /' "$s/mw.log" >&2; }
    return
  fi
  hogpid=$(cat "$s/ready")
  sleep 3 # memwarden's loops have taken their first readings: the balloon's baseline
  t_set=$EPOCHREALTIME
  r=$(balloon_request "set $keep")
  note "$policy: asked the host to shrink the guest to $(mib "$keep"): $r" >&2
  deadline=$((SECONDS + 60))
  while [ "$SECONDS" -lt "$deadline" ]; do
    b=$(balloon_bytes); [ "$b" -gt "$max" ] && max=$b
    [ -z "$t_cross" ] && [ "$b" -ge "$share" ] && t_cross=$EPOCHREALTIME
    [ "$b" -ge $(((phys - keep) * 9 / 10)) ] && { t_full=$EPOCHREALTIME; break; }
    sleep 0.1
  done
  touch "$s/go"
  t_go=$EPOCHREALTIME full0=$(psi_full_us)
  # without memwarden the guest may thrash for minutes before the kernel kills (page cache refaults over virtiofs
  # under TCG): that stall is the result; past the limit the check ends it itself (cgroup.kill) and says so
  wait_until "$([ "$policy" = none ] && echo 240 || echo 120)" exited "$hogpid"
  alive=$(exited "$hogpid" && echo no || echo yes)
  t_end=$EPOCHREALTIME full1=$(psi_full_us)
  b=$(balloon_bytes); [ "$b" -gt "$max" ] && max=$b
  oom1=$(oom_kills)
  [ -n "${cg:-}" ] && remove_tree "$cg" >&2 # a hog that outlived the run must not press on the next one
  if [ -n "$mw" ]; then
    kill -TERM "$mw" 2>/dev/null; wait_until 30 exited "$mw" || kill -KILL "$mw" 2>/dev/null
    wait "$mw" 2>/dev/null; sleep 0.5
    sed 's/^/# mw: /' "$s/mw.log" >&2
    notice=$(awk '/ balloon: node: / { print $1; exit }' "$s/mw.log")
    acted=$(grep -c ' guard: ' "$s/mw.log")
    evicted=$(grep -q ' guard: .*: evict: ' "$s/mw.log" && echo yes || echo no)
  fi
  balloon_deflate "$phys"
  printf 'oom_kills=%s balloon_max=%s crossed_share_after=%s full_after=%s' "$((oom1 - oom0))" "$max" \
    "$([ -n "$t_cross" ] && secs_between "$t_set" "$t_cross" || echo -)" \
    "$([ -n "$t_full" ] && secs_between "$t_set" "$t_full" || echo -)"
  # notice_after_cross may be negative: the sampler here forks awk every 0.1 s and can see the crossing later than
  # memwarden does (whose 10 % is of MemTotal + balloon, a little below the host's size)
  [ -n "$mw" ] && printf ' notice_after_request=%s notice_after_cross=%s guard_actions=%s evicted=%s' \
    "$([ -n "$notice" ] && secs_between "$t_set" "$notice" || echo -)" \
    "$([ -n "$notice" ] && [ -n "$t_cross" ] && secs_between "$t_cross" "$notice" || echo -)" "$acted" "$evicted"
  printf ' hog_ended_after=%s memory_full_stall=%s hog_alive=%s\n' "$(secs_between "$t_go" "$t_end")" \
    "$(awk -v a="$full0" -v b="$full1" 'BEGIN { printf "%.2f", (b - a) / 1e6 }')" "$alive"
}

check_memwarden_balloon() { # the host shrinks the guest by half through its balloon while a workload runs:
  # memwarden notices within 2 s, acts, and no kernel OOM kill happens; without memwarden the kernel kills
  local jar=$project/target/memwarden.jar dev r phys none mw
  [ -f "$jar" ] || { fail "no $jar (build it first: bin/memwarden --version)"; return; }
  dev=$(ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio* 2>/dev/null | head -n 1)
  [ -n "$dev" ] || { fail "no virtio balloon device bound to virtio_balloon ($(cat "${MW_RESULTS:-/nonexistent}/.mw/balloon-module" 2>/dev/null || echo "run-in-vm.sh --balloon not given"))"; return; }
  r=$(balloon_request query)
  [[ "$r" == "ok actual="* ]] || { fail "the host cannot drive the balloon: $r"; return; }
  phys=${r#ok actual=}
  [ "$phys" -ge $((1024 * MiB)) ] || { fail "the guest has $(mib "$phys"); the scenario needs >= 1GiB"; return; }
  if [ "$(balloon_bytes)" -gt $((16 * MiB)) ]; then balloon_deflate "$phys"; fi
  note "balloon device $(basename "$dev"), features $(cat "$dev/features" 2>/dev/null), guest $(mib "$phys")"
  none=$(balloon_scenario none "$phys")
  mw=$(balloon_scenario memwarden "$phys")
  local detail="no agent: $none; memwarden: $mw"
  local mw_oom mw_notice mw_acted none_oom
  none_oom=$(grep -o 'oom_kills=[0-9]*' <<<"$none" | cut -d= -f2)
  mw_oom=$(grep -o 'oom_kills=[0-9]*' <<<"$mw" | cut -d= -f2)
  mw_notice=$(grep -o 'notice_after_cross=[-0-9.]*' <<<"$mw" | cut -d= -f2)
  mw_acted=$(grep -o 'guard_actions=[0-9]*' <<<"$mw" | cut -d= -f2)
  if [[ "$none$mw" == *error=* ]]; then
    fail "$detail"
  elif [ "${none_oom:-0}" -lt 1 ] && ! { [[ "$none" == *hog_alive=yes* ]] &&
       awk -v s="$(grep -o 'memory_full_stall=[0-9.]*' <<<"$none" | cut -d= -f2)" 'BEGIN { exit !(s + 0 >= 5) }'; }; then
    fail "without memwarden the scenario made neither a kernel OOM kill nor a stall, so it shows nothing: $detail"
  elif [ "${mw_oom:-1}" != 0 ] || [ "${mw_acted:-0}" -lt 1 ] || [ -z "$mw_notice" ] || [ "$mw_notice" = - ] ||
       ! awk -v n="$mw_notice" 'BEGIN { exit !(n <= 2.0) }'; then
    fail "want with memwarden: oom_kills=0, guard_actions>=1, notice_after_cross<=2.0s: $detail"
  else
    pass "$detail"
  fi
}

ALL_CHECKS=(controllers oom_at_max swap_max_zero swap_max_cap high_throttles reclaim_to_swap min_protects
            psi_trigger oom_group memwarden_balloon memwarden_node_swap_cap memwarden_demo memwarden_doctor memwarden_throttle_relief memwarden_offload
            memwarden_pressure_guard memwarden_bench_density)

# ---- runner ----------------------------------------------------------------------------------------
cleanup() { remove_tree "$PREFIX"; rm -rf "$SCRATCH"; }
trap cleanup EXIT

mkdir "$PREFIX" || { echo "CHECK setup FAIL cannot create $PREFIX"; exit 1; }
echo "+memory +pids" >"$PREFIX/cgroup.subtree_control" || { echo "CHECK setup FAIL cannot enable +memory +pids in $PREFIX"; exit 1; }

checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=("${ALL_CHECKS[@]}")
failed=0
for name in "${checks[@]}"; do
  if ! declare -F "check_$name" >/dev/null; then
    echo "CHECK $name FAIL no such check (known: ${ALL_CHECKS[*]})"; failed=1; continue
  fi
  rm -f "$SCRATCH/verdict"
  start=$SECONDS
  ( "check_$name" ) 2>"$SCRATCH/stderr" &
  runner=$!
  limit=${CHECK_TIMEOUTS[$name]:-$CHECK_TIMEOUT}
  if ! wait_until "$limit" exited "$runner"; then
    kill -KILL "$runner" 2>/dev/null
    fail "timed out after ${limit}s"
  fi
  wait "$runner" 2>/dev/null
  for d in "$PREFIX"/*/; do [ -d "$d" ] && remove_tree "${d%/}"; done
  # the check's stderr, without bash's notes on background jobs it killed on purpose
  grep -Ev '^.*: line [0-9]+: +[0-9]+ Killed ' "$SCRATCH/stderr" | sed "s/^/# $name: /"
  [ -s "$SCRATCH/verdict" ] || fail "the check ended without a verdict"
  v=$(cat "$SCRATCH/verdict")
  echo "CHECK $name $v [$((SECONDS - start))s]"
  [[ "$v" == PASS* ]] || failed=1
done
exit $failed
