#!/usr/bin/env bash
# memwarden nri's footprint against the real NRI v0.6.1 runtime adaptation (test/nri/harness).
#
#   test/nri/footprint.sh startup [-n N] [-idle S] [-pods P [-per-pod C]]
#       N times (default 5): start the harness, exec `bin/memwarden nri` against it, and report the seconds from
#       the exec to the harness's own timestamp of the plugin's first completed registration (RegisterPlugin,
#       Configure, Synchronize: `registered_unix_ms` of its "ready" line), the CPU time the plugin process (launcher
#       included) had used when that was seen, and its VmRSS S seconds later (default 2).
#       Prints one line per run and min/median/max. The plugin's --pods is the interop test data (6 pods), or with
#       -pods a manifest of P pods x C containers (default 10) like bench's.
#   test/nri/footprint.sh bench [-pods P] [-per-pod C] [-calls N] [-warmup W]
#       The harness Synchronizes P*C existing running containers (default 20 pods x 10 = 200, all in the plugin's
#       --pods manifest), then times N CreateContainer calls (default 20000, after W=2000 warm-up calls; each
#       container is removed untimed); prints the harness's p50/p99/max/calls_per_s and the plugin's VmRSS and
#       VmHWM afterwards. -go: NRI's own Go stub plugin (test/nri/testplugin) instead of memwarden, for a
#       comparison under the same machine load.
#
# The plugin command is bin/memwarden (MEMWARDEN_FOOTPRINT_PLUGIN=CMD overrides); MEMWARDEN_JAVA_OPTS and
# MEMWARDEN_HEAP reach it. With -XX:NativeMemoryTracking=summary in MEMWARDEN_JAVA_OPTS, `jcmd PID
# VM.native_memory summary` is printed at the RSS measurement. Needs test/nri/setup.sh once (builds the harness
# with test/nri/build.sh; MEMWARDEN_NRI_BIN as there).
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
mode=${1:-}
shift || true
runs=5 idle=2 pods=20 perpod=10 calls=20000 warmup=2000 go=false manifest=
while [ $# -gt 0 ]; do
  case "$1" in
    -n) runs=$2; shift 2 ;;
    -idle) idle=$2; shift 2 ;;
    -pods) pods=$2; manifest=generated; shift 2 ;;
    -per-pod) perpod=$2; shift 2 ;;
    -calls) calls=$2; shift 2 ;;
    -warmup) warmup=$2; shift 2 ;;
    -go) go=true; shift ;;
    *) echo "footprint: unknown argument $1" >&2; exit 2 ;;
  esac
done
case "$mode" in startup|bench) ;; *) sed -n '2,20p' "$0" >&2; exit 2 ;; esac

plugin=${MEMWARDEN_FOOTPRINT_PLUGIN:-$root/bin/memwarden}
bin=$("$root/test/nri/build.sh" | tail -1)
data=$root/src/test/resources/nri-interop
work=$(mktemp -d /tmp/memwarden-footprint-XXXXXX)
hpid= ppid_=
cleanup() {
  local p
  for p in $ppid_ $hpid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# the plugin, exec'ed from a subshell that first records the wall clock (ms, from bash's $EPOCHREALTIME: no fork)
start_plugin() { # socket pods.yaml log
  (
    t=${EPOCHREALTIME/./}
    echo "${t:0:-3}.${t: -3}" >"$work/exec_ms"
    exec "$plugin" nri --socket "$1" --index 50 --name memwarden --node "$data/node.yaml" \
      --kubelet-config "$data/kubelet-config.yaml" --config "$data/memwarden.yaml" --pods "$2" >"$3" 2>&1
  ) &
  ppid_=$!
}
wait_socket() { for _ in $(seq 400); do [ -S "$1" ] && return 0; sleep 0.025; done; echo "footprint: no socket $1" >&2; exit 1; }
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{sub(/.*\) /, ""); printf "%.2f", ($12 + $13) / hz}' "/proc/$1/stat"; }
rss() { awk -v k="$2:" '$1==k {print int($2/1024)}' "/proc/$1/status"; }
nmt() {
  case " ${MEMWARDEN_JAVA_OPTS:-} " in
    *NativeMemoryTracking*) "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$1" VM.native_memory summary \
      | grep -E '^(Total|-  *[A-Z][A-Za-z ]*\(reserved)' | sed 's/^/  nmt /'
      "${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/jcmd" "$1" GC.heap_info | grep -E 'generation|space' \
      | sed 's/^/  heap /' ;;
  esac
}
stop_plugin() { kill "$ppid_" 2>/dev/null || true; wait "$ppid_" 2>/dev/null || true; ppid_=; }
ready_ms() { grep -o '"registered_unix_ms":[0-9.e+]*' "$1" | head -1 | cut -d: -f2; }

write_manifest() { # P pods of C containers each -> $work/pods.yaml
  {
    for p in $(seq "$pods"); do
      printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: app-%d, namespace: fleet, uid: uid-app-%d}\nspec:\n  containers:\n' "$p" "$p"
      for c in $(seq "$perpod"); do
        printf '    - {name: c%d, image: x, resources: {requests: {memory: %dMi}, limits: {memory: %dMi}}}\n' "$c" $((64 * c)) $((128 * c))
      done
    done
  } >"$work/pods.yaml"
}

# a first start builds the jar and trains the AOT cache when they are stale: not part of any measurement
"$plugin" nri --help >/dev/null

if [ "$mode" = startup ]; then
  podsfile=$data/pods.yaml
  if [ -n "$manifest" ]; then write_manifest; podsfile=$work/pods.yaml; fi
  echo "{\"op\":\"Sleep\",\"ms\":$((idle * 1000 + 500))}" >"$work/scenario.json"
  results=()
  for i in $(seq "$runs"); do
    sock=$work/nri-$i.sock
    "$bin/nri-harness" -socket "$sock" -plugins 1 -wait 60s "$work/scenario.json" >"$work/h.out" 2>"$work/h.err" &
    hpid=$!
    wait_socket "$sock"
    start_plugin "$sock" "$podsfile" "$work/plugin-$i.log"
    for _ in $(seq 1200); do [ -n "$(ready_ms "$work/h.out")" ] && break; sleep 0.05; done
    reg=$(ready_ms "$work/h.out")
    [ -n "$reg" ] || { echo "footprint: run $i: no registration; harness: $(tail -3 "$work/h.err")" >&2; cat "$work/plugin-$i.log" >&2; exit 1; }
    s=$(awk -v a="$(cat "$work/exec_ms")" -v b="$reg" 'BEGIN {printf "%.3f", (b - a) / 1000}')
    cpu=$(cpu_s "$ppid_")
    sleep "$idle"
    echo "run $i: exec -> registered ${s} s (CPU ${cpu} s); RSS ${idle} s later $(rss "$ppid_" VmRSS) MiB (anon $(rss "$ppid_" RssAnon), file $(rss "$ppid_" RssFile), HWM $(rss "$ppid_" VmHWM))"
    nmt "$ppid_"
    results+=("$s")
    stop_plugin
    wait "$hpid" || true
    hpid=
  done
  printf '%s\n' "${results[@]}" | sort -n | awk '{a[NR]=$1} END {printf "exec -> registered (s), %d runs: min %s median %s max %s\n", NR, a[1], a[int((NR+1)/2)], a[NR]}'
  exit 0
fi

# bench: P pods of C containers each, in the manifest and synchronized; then the timed calls on the first pod
write_manifest
{
  printf '{"op":"Synchronize","pods":['
  for p in $(seq "$pods"); do
    [ "$p" -gt 1 ] && printf ','
    printf '{"id":"pod-%d","name":"app-%d","namespace":"fleet","uid":"uid-app-%d","linux":{"cgroup_parent":"kubepods-burstable-poduid_app_%d.slice"}}' "$p" "$p" "$p" "$p"
  done
  printf '],"containers":['
  for p in $(seq "$pods"); do
    for c in $(seq "$perpod"); do
      [ "$p$c" != 11 ] && printf ','
      printf '{"id":"ctr-%d-%d","pod_sandbox_id":"pod-%d","name":"c%d","linux":{"resources":{"memory":{"limit":{"value":"%d"}}}}}' \
        "$p" "$c" "$p" "$c" $((128 * c * 1048576))
    done
  done
  printf ']}\n'
  printf '{"op":"CreateContainer","pod":"pod-1","container":{"name":"c1","linux":{"resources":{"memory":{"limit":{"value":"134217728"}}}}}}\n'
} >"$work/scenario.json"
sock=$work/nri.sock
"$bin/nri-harness" -socket "$sock" -plugins 1 -wait 60s -bench "$calls" -warmup "$warmup" "$work/scenario.json" \
  >"$work/h.out" 2>"$work/h.err" &
hpid=$!
wait_socket "$sock"
if $go; then
  "$bin/nri-testplugin" -socket "$sock" -idx 50 -reconnect >"$work/plugin.log" 2>&1 &
  ppid_=$!
else
  start_plugin "$sock" "$work/pods.yaml" "$work/plugin.log"
fi
if ! wait "$hpid"; then
  hpid=
  echo "footprint: harness failed: $(tail -5 "$work/h.err")" >&2; tail -20 "$work/plugin.log" >&2; exit 1
fi
hpid=
synced=$(grep -o '"sync":\[[^]]*' "$work/h.out" | head -1 | grep -o container_id | wc -l || true)
echo "synchronized $((pods * perpod)) containers in $pods pods (plugin answered with $synced update(s)); then $calls calls after $warmup warm-up"
tail -1 "$work/h.out"
if tail -1 "$work/h.out" | grep -q '"plugins":\[\]'; then
  echo "footprint: the runtime had no active plugin during the timed calls (dropped: a timeout?); not a measurement" >&2
  tail -20 "$work/plugin.log" >&2
  exit 1
fi
echo "plugin after the bench: VmRSS $(rss "$ppid_" VmRSS) MiB (anon $(rss "$ppid_" RssAnon), file $(rss "$ppid_" RssFile)), VmHWM $(rss "$ppid_" VmHWM) MiB"
nmt "$ppid_"
