#!/bin/bash
# NRI end-to-end check, run INSIDE the vm tier's guest (root, cgroup2 on /sys/fs/cgroup, swap on):
# containerd with NRI + runc (Debian packages, unpacked by test/vm/fetch-containerd.sh: 1.7.24 from trixie, NRI
# v0.6.1; 2.1.x from sid, NRI v0.8.0), memwarden connected as an external NRI plugin, and a test-only CRI client
# (test/nri/criclient) creating pods and containers from busybox images built here
# (test/vm/build-busybox-image.sh) and imported with ctr.
#
#   test/vm/run-in-vm.sh --swap 1G --env MW_JAVA=... --env MW_CONTAINERD_ROOT=... --env MW_CRI_CLIENT=... \
#       -- test/vm/guest/containerd-e2e.sh
#
# MW_CONTAINERD_ROOTS=TREE1:TREE2 (instead of MW_CONTAINERD_ROOT) runs one pass per tree, one after the other in
# the same boot, each with its own state under /run/mw-e2e/<tag> and logs under $MW_RESULTS/e2e/<tag>; <tag> is
# containerd-<version> (from `containerd --version`) and prefixes every CHECK name: CHECK <tag>/<name> ...
# With NRI v0.7+ (containerd 1.7.26+, 2.x) a pass first creates 20 pods with 240 KiB of annotations each (below
# the API's 256 KiB limit per object): their Synchronize is over ttrpc's 4 MiB, so NRI splits it (nri_split_sync).
#
# Second phase: memwarden nri stops (containers keep their values), fabric8's mock Kubernetes API server (test
# classpath in MW_TEST_CLASSPATH) serves the same pods, and `memwarden agent` takes over the NRI socket: it is
# synchronized with the running containers, plans a new pod from the API's spec, relieves its memory.high throttling,
# labels the node, sends events, serves /metrics and /status, and stops leaving every value in place.
#
# Output: one line per check, CHECK <name> PASS|FAIL <detail> (io.memwarden.vm.ContainerdE2eVmTest turns each
# into a JUnit test), plus "#" diagnostic lines. Logs (containerd, memwarden, plans) go to $MW_RESULTS/e2e/.
# Every writable path lives on tmpfs under /run/mw-e2e (the guest's / is the host's, read-only).
# Exit 0 when every check passed, 1 otherwise. The last line of a run that reached its end is CHECK script PASS.
#
# Unexpected command errors: an ERR trap, not `set -e`. It fires where `set -e` would exit (a simple command, a
# function call or an assignment from $(...) that fails outside a condition, `||`/`&&` list or `!`) and, with
# `set -E`, inside functions too; it prints CHECK script FAIL with the line and the command, then exits (the EXIT
# trap cleans up), so the failure is a JUnit failure naming its line instead of a silently missing CHECK line.
# What fails on purpose is written so: in a condition, or `|| true` / `|| rc=$?`. As with `set -e`, a function
# called in a condition (`if run_container ...`) runs with the trap off; such functions check their commands
# themselves. Command substitutions inherit the trap but it acts only in the main shell: a failing $(...) in an
# assignment reaches it through the assignment's status, one inside a detail string is diagnostic text only. No
# pipefail: `grep ... | head -n 1` may end grep with SIGPIPE, which is not an error here.
set -uE
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
project=$(cd "$here/../../.." && pwd)
if [ -z "${MW_CONTAINERD_ROOT:-}" ] && [ -n "${MW_CONTAINERD_ROOTS:-}" ]; then
  rc=0 pass=0
  IFS=: read -r -a roots <<<"$MW_CONTAINERD_ROOTS"
  for r in "${roots[@]}"; do
    start=$SECONDS
    MW_CONTAINERD_ROOT=$r MW_E2E_PASS=$pass "$here/$(basename "${BASH_SOURCE[0]}")" || rc=1
    echo "# pass $pass ($r) took $((SECONDS - start)) s"
    pass=$((pass + 1))
  done
  exit $rc
fi
JAVA=${MW_JAVA:-java}
CROOT=${MW_CONTAINERD_ROOT:?MW_CONTAINERD_ROOT: the unpacked containerd/runc/busybox tree}
CRI=${MW_CRI_CLIENT:?MW_CRI_CLIENT: the cri-client binary}
TEST_CP=${MW_TEST_CLASSPATH:?MW_TEST_CLASSPATH: the memwarden test classpath (for the mock Kubernetes API server)}
PASS_NO=${MW_E2E_PASS:-0}   # each pass its own ports: a port the last pass's server held may not be free yet
API_PORT=$((18080 + PASS_NO))
STATUS_PORT=$((9767 + PASS_NO))
STATUS=http://127.0.0.1:$STATUS_PORT
JAR=$project/target/memwarden.jar
CTD_VERSION=$("$CROOT/usr/bin/containerd" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1) || true
CTD_VERSION=${CTD_VERSION:-unknown}
TAG=containerd-$CTD_VERSION
ver_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }   # ver_ge A B: A >= B
# the NRI version each containerd ships (nri-protocol.md §5): v0.7 added split sync and the oom_score_adj adjustment
if ver_ge "$CTD_VERSION" 2.2.0; then NRI_VERSION=">=v0.10"
elif ver_ge "$CTD_VERSION" 2.0.0 || ver_ge "$CTD_VERSION" 1.7.26; then NRI_VERSION=v0.8.0
elif ver_ge "$CTD_VERSION" 1.7.16; then NRI_VERSION=v0.6.1
else NRI_VERSION="<v0.6.1"; fi
case "$NRI_VERSION" in v0.6.1|"<v0.6.1") NRI_V07=no ;; *) NRI_V07=yes ;; esac
NRI_OOM_ADJ=$NRI_V07
D=/run/mw-e2e/$TAG
LOGS=${MW_RESULTS:-/run/mw-e2e}/e2e/$TAG
SOCK=$D/containerd.sock
NRI_SOCK=$D/nri/nri.sock
CG=/sys/fs/cgroup
MiB=$((1 << 20))
PAGE=$(getconf PAGESIZE)
export PATH=$CROOT/usr/bin:$CROOT/usr/sbin:$PATH

note() { echo "# $*"; }
check() { echo "CHECK $TAG/$1 $2 ${*:3}"; [ "$2" = PASS ] || failed=1; }
failed=0
exec 8>&1   # the script's stdout, for the ERR trap inside redirected blocks
on_error() { # on_error STATUS LINE COMMAND: an unexpected failure (see the header)
  [ "$BASHPID" = "$$" ] || return 0
  trap - ERR
  local in=""
  [ "${FUNCNAME[1]:-main}" = main ] || in=" (in ${FUNCNAME[1]})"
  echo "CHECK $TAG/script FAIL line $2$in: '$3' exited with status $1" >&8
  exit 1
}
trap 'on_error $? $LINENO "$BASH_COMMAND"' ERR
pids=()
wait_until() { # wait_until SECONDS CMD...: polls CMD every 0.2 s
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ "$SECONDS" -lt "$deadline" ] || return 1; sleep 0.2; done
}
cri() { "$CRI" -socket "$SOCK" -timeout 120s "$@"; }
java_mw() { "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -jar "$JAR" "$@"; }
# a daemon started with `java_daemon ... &`: exec, so that $! is the JVM's pid (signals reach memwarden itself)
java_daemon() { exec "$JAVA" --enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -jar "$JAR" "$@"; }

pods_created=()
cleanup() {
  local p i
  trap - ERR   # best effort from here on
  for p in "${pods_created[@]}"; do cri stopp "$p" >/dev/null 2>&1; cri rmp "$p" >/dev/null 2>&1; done
  for (( i=${#pids[@]}-1; i>=0; i-- )); do kill -TERM "${pids[$i]}" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null
  done
  exec 7>&-   # the mock API server sees its stdin close and stops
  # shims and containers left behind (a failed run): kill the whole kubepods tree
  [ -d $CG/kubepods ] && echo 1 >$CG/kubepods/cgroup.kill 2>/dev/null
  pkill_shims
  # the next pass starts from an empty kubepods tree (the mock API gives the same pod uids each time)
  for _ in $(seq 1 20); do
    find $CG/kubepods -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
    [ -z "$(find $CG/kubepods -mindepth 1 -type d -print -quit 2>/dev/null)" ] && break
    sleep 0.5
  done
}
pkill_shims() { local p; for p in $(pgrep -f "^$CROOT/usr/bin/containerd-shim" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done; }
trap cleanup EXIT

mkdir -p "$LOGS" $D/{api,trigger,root,state,nri/plugins,nri/conf.d,cni/bin,cni/net.d,opt,logs,images,work} || { check setup FAIL "cannot create $D"; exit 1; }
ip link set lo up 2>/dev/null || note "could not bring lo up"
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd   # process substitution; init.sh's devtmpfs has no /dev/fd
for f in "$JAR" "$CRI" "$CROOT/usr/bin/containerd" "$CROOT/usr/bin/ctr" "$CROOT/usr/bin/busybox"; do
  [ -e "$f" ] || { check setup FAIL "missing $f"; exit 1; }
done

# ---- containerd -----------------------------------------------------------------------------------
# containerd 1.x: config version 2; 2.x: version 3, where the CRI plugin is split into io.containerd.cri.v1.images
# (snapshotter, pinned sandbox image), io.containerd.cri.v1.runtime (runtimes, cni, apparmor) and
# io.containerd.grpc.v1.cri (the streaming server); NRI keeps io.containerd.nri.v1.nri (containerd docs/cri/config.md
# "Full configuration", docs/NRI.md). ctr's import goes through the transfer service in 2.x, whose unpacking is
# told to use the native snapshotter too (overlay is a module the guest does not load).
NRI_SECTION=$(cat <<EOF
[plugins."io.containerd.nri.v1.nri"]
  disable = false
  disable_connections = false
  socket_path = "$NRI_SOCK"
  plugin_path = "$D/nri/plugins"
  plugin_config_path = "$D/nri/conf.d"
  # generous: the guest runs under TCG emulation, and memwarden's JVM answers its first calls cold
  plugin_registration_timeout = "30s"
  plugin_request_timeout = "30s"
EOF
)
if ver_ge "$CTD_VERSION" 2.0.0; then
cat >$D/config.toml <<EOF
version = 3
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.erofs",
                    "io.containerd.snapshotter.v1.blockfile",
                    "io.containerd.snapshotter.v1.overlayfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
[plugins."io.containerd.cri.v1.images"]
  snapshotter = "native"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "docker.io/memwarden/pause:e2e"
[plugins."io.containerd.cri.v1.runtime"]
  disable_apparmor = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$CROOT/usr/sbin/runc"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["$D/cni/bin"]   # 2.1: bin_dirs (bin_dir is deprecated)
    conf_dir = "$D/cni/net.d"
[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
[[plugins."io.containerd.transfer.v1.local".unpack_config]]
  platform = "linux/amd64"
  snapshotter = "native"
$NRI_SECTION
EOF
else
cat >$D/config.toml <<EOF
version = 2
root = "$D/root"
state = "$D/state"
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                    "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
                    "io.containerd.snapshotter.v1.overlayfs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[plugins."io.containerd.internal.v1.opt"]
  path = "$D/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/memwarden/pause:e2e"
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "native"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "$CROOT/usr/sbin/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$D/cni/bin"
    conf_dir = "$D/cni/net.d"
$NRI_SECTION
EOF
fi
t0=$SECONDS
containerd --config $D/config.toml --log-level info >"$LOGS/containerd.log" 2>&1 &
pids+=($!)
if wait_until 90 cri -timeout 5s version >/dev/null 2>&1; then
  check containerd_cri PASS "$(cri version) answered after $((SECONDS - t0))s (config version $(awk 'NR == 1 { print $3 }' $D/config.toml), NRI $NRI_VERSION); $(runc --version | head -n 1)"
else
  check containerd_cri FAIL "no CRI answer in 90s: $(grep -E 'level=(error|fatal)' "$LOGS/containerd.log" | tail -n 3 | tr '\n' ' ')"
  exit 1
fi

# ---- images: built here from busybox-static, imported with ctr (no registry) ----------------------
t0=$SECONDS
st=0
IMPORT_LOCAL=()   # 2.x: import and unpack here, not through the transfer service
if ver_ge "$CTD_VERSION" 2.0.0; then IMPORT_LOCAL=(--local); fi
"$here/../build-busybox-image.sh" "$CROOT/usr/bin/busybox" $D/images/pause.tar docker.io/memwarden/pause:e2e \
  sleep 2147483647 >/dev/null &&
"$here/../build-busybox-image.sh" "$CROOT/usr/bin/busybox" $D/images/busybox.tar docker.io/memwarden/busybox:e2e \
  sh >/dev/null &&
ctr -a "$SOCK" -n k8s.io images import "${IMPORT_LOCAL[@]}" --snapshotter native $D/images/pause.tar >"$LOGS/import.log" 2>&1 &&
ctr -a "$SOCK" -n k8s.io images import "${IMPORT_LOCAL[@]}" --snapshotter native $D/images/busybox.tar >>"$LOGS/import.log" 2>&1 || st=$?
note "images built and imported in $((SECONDS - t0))s (status $st): $(ctr -a "$SOCK" -n k8s.io images ls -q | tr '\n' ' ')"
[ $st = 0 ] || { check setup FAIL "image import: $(tail -n 3 "$LOGS/import.log" | tr '\n' ' ')"; exit 1; }

# ---- NRI v0.7+: pods enough for a split Synchronize ---------------------------------------------------
# NRI's runtime sends the whole sync in one message; when ttrpc refuses it as over 4 MiB (ResourceExhausted) it resends
# it in chunks of count x min(0.9, 4 MiB / size) objects, at least 4 pods + 4 containers, and gives up when the
# message already held 8 objects or fewer (containerd/nri v0.8.0 pkg/adaptation/plugin.go synchronize,
# recalcObjsPerSyncMsg; nri-protocol.md §2.4). 20 sandboxes with one 240 KiB annotation each (a realistic
# kubectl last-applied-configuration, under the API's 256 KiB per object) make about 4.9 MB: two messages.
FILLERS=0
if [ "$NRI_V07" = yes ]; then
  t0=$SECONDS
  FILLERS=20
  big=$(head -c $((240 * 1024)) /dev/zero | tr '\0' x)
  for i in $(seq 1 $FILLERS); do
    printf '{"metadata": {"name": "filler-%d", "namespace": "e2e-fill", "uid": "filler-uid-%d", "attempt": 0},
 "log_directory": "%s/logs/filler-%d",
 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "%s"},
 "linux": {"cgroup_parent": "/kubepods/besteffort/podfiller-uid-%d", "security_context": {"namespace_options": {"network": 2}}}}\n' \
      "$i" "$i" "$D" "$i" "$big" "$i" >$D/work/filler-$i.json
  done
  unset big
  # four at a time: the guest's two vCPUs take turns on one host thread, so this overlaps waits, not work (a bare
  # `wait` would wait for containerd too)
  batch=()
  for i in $(seq 1 $FILLERS); do
    cri runp $D/work/filler-$i.json >$D/work/filler-$i.id 2>$D/work/filler-$i.err &
    batch+=($!)
    if [ ${#batch[@]} = 4 ] || [ $i = $FILLERS ]; then
      for p in "${batch[@]}"; do wait "$p" || true; done   # counted below
      batch=()
    fi
  done
  made=0
  for i in $(seq 1 $FILLERS); do
    if [ -s $D/work/filler-$i.id ]; then made=$((made + 1)); pods_created+=("$(cat $D/work/filler-$i.id)"); fi
  done
  note "$made of $FILLERS filler pods (240 KiB of annotations each) in $((SECONDS - t0))s$(cat $D/work/filler-*.err | sort -u | head -n 3 | tr '\n' ' ')"
fi

# ---- memwarden as an external NRI plugin -----------------------------------------------------------
cat >$D/memwarden.yaml <<'EOF'
memoryQos:
  classes:
    - name: bronze
      swaplimitratio: 0.5
    - name: silver
      swaplimitratio: 0.2
  unifiedannotations:
    - memory.swap.max
    - memory.high
annotations:                # pod e2e/limited asks for LimitedSwap (the node's behaviour is NoSwap)
  allowed: [swap-behavior]
  allowedSwapBehaviors: [LimitedSwap]
EOF
# ---- the mock Kubernetes API: this node and the e2e pods (it gives them their uids) ------------------
# one e2e pod: e2e_pod NAME CONTAINER LIMIT UID [ANNOTATION...]; UID "" when the mock API gives it. LIMIT: a memory
# limit (request 32Mi: Burstable), "guaranteed" (64Mi memory and 100m cpu, requests = limits) or "besteffort"
e2e_pod() {
  local name=$1 ctr=$2 limit=$3 uid=$4
  shift 4
  printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  namespace: e2e\n' "$name"
  if [ -n "$uid" ]; then printf '  uid: %s\n' "$uid"; fi
  if [ $# -gt 0 ]; then echo "  annotations:"; printf '    %s\n' "$@"; fi
  printf 'spec:\n  containers:\n    - name: %s\n      image: docker.io/memwarden/busybox:e2e\n' "$ctr"
  case "$limit" in
    guaranteed) printf '      resources:\n        requests: {memory: 64Mi, cpu: 100m}\n        limits: {memory: 64Mi, cpu: 100m}\n' ;;
    besteffort) printf '      resources: {}\n' ;;
    *) printf '      resources:\n        requests: {memory: 32Mi}\n        limits: {memory: %s}\n' "$limit" ;;
  esac
}
SILVER='class.memory-qos.nri.io: silver'
LIMITED='swap-behavior.memwarden.io: LimitedSwap'
# the pods memwarden nri plans from its --pods file (UIDs from the mock API)
nri_pods() {
  e2e_pod qos silver 128Mi "$(uid_of e2e/qos)" "$SILVER"; echo ---
  e2e_pod noswap hog 64Mi "$(uid_of e2e/noswap)"; echo ---
  e2e_pod limited ls 64Mi "$(uid_of e2e/limited)" "$LIMITED"; echo ---
  e2e_pod guaranteed g guaranteed "$(uid_of e2e/guaranteed)"; echo ---
  e2e_pod besteffort be besteffort "$(uid_of e2e/besteffort)"
}
uid_of() { [ ! -e $D/api/uids ] || awk -v k="$1" '$1 == k { print $2 }' $D/api/uids; }
{ nri_pods; echo ---
  e2e_pod relief fill 128Mi "" 'class.memory-qos.nri.io: bronze' 'memory.swap.max.memory-qos.nri.io: "0"'; } \
  >$D/api-pods.yaml
t0=$SECONDS
mkfifo $D/api.stdin
"$JAVA" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$TEST_CP" io.memwarden.vm.MockApiServer $API_PORT mw-e2e \
  $D/api-pods.yaml $D/api <$D/api.stdin >"$LOGS/api.log" 2>&1 &
pids+=($!)
exec 7>$D/api.stdin   # the server serves while this stays open
api_ready() { grep -q '^ready' "$LOGS/api.log"; }
if wait_until 180 api_ready; then
  note "mock Kubernetes API on 127.0.0.1:$API_PORT after $((SECONDS - t0))s: $(tr '\n' ';' <$D/api/uids)"
else
  check setup FAIL "the mock API server did not start: $(tail -n 5 "$LOGS/api.log" | tr '\n' ' ')"; exit 1
fi
QOS_UID=$(uid_of e2e/qos) HOG_UID=$(uid_of e2e/noswap) RELIEF_UID=$(uid_of e2e/relief)
api() { curl -sf --max-time 10 "http://127.0.0.1:$API_PORT$1"; }

nri_pods >$D/pods.yaml
t0=$SECONDS
java_daemon nri --socket "$NRI_SOCK" --index 50 --node auto --config $D/memwarden.yaml --pods $D/pods.yaml \
  >"$LOGS/memwarden.log" 2>&1 &
mw_pid=$!
pids+=($mw_pid)
mw_synced() { grep -q 'synchronized:' "$LOGS/memwarden.log"; }
ctd_registered() { grep -qF 'registered as \"50-memwarden\"' "$LOGS/containerd.log" && grep -qF 'plugin \"50-memwarden\" connected' "$LOGS/containerd.log"; }
if wait_until 120 mw_synced && wait_until 10 ctd_registered; then
  check nri_registered PASS "memwarden registered and synchronized after $((SECONDS - t0))s: $(grep -o 'Configure from runtime.*' "$LOGS/memwarden.log" | head -n 1); containerd: $(grep -F '50-memwarden' "$LOGS/containerd.log" | sed 's/.*msg="\(.*\)".*/\1/; s/\\"/'"'"'/g' | tr '\n' ';')"
else
  check nri_registered FAIL "after $((SECONDS - t0))s; memwarden alive: $(kill -0 $mw_pid 2>/dev/null && echo yes || echo no); memwarden: $(tail -n 3 "$LOGS/memwarden.log" | tr '\n' ' '); containerd: $(grep -i nri "$LOGS/containerd.log" | tail -n 3 | tr '\n' ' ')"
  exit 1
fi

if [ "$NRI_V07" = yes ]; then
  joined=$(grep -o 'joined a split sync of .*' "$LOGS/memwarden.log" | head -n 1) || true
  synced=$(grep -o 'synchronized: .*' "$LOGS/memwarden.log" | head -n 1) || true
  chunks=$(grep -oE 'split sync of [0-9]+' <<<"$joined" | grep -oE '[0-9]+$') || true
  fillers_synced=$(grep -oE '[0-9]+ pods' <<<"$joined" | grep -oE '^[0-9]+') || true
  if [ "${chunks:-0}" -ge 2 ] && [ "${fillers_synced:-0}" -ge "$FILLERS" ]; then
    check nri_split_sync PASS "memwarden: $joined; $synced; containerd: $(grep -F 'synchroniz' "$LOGS/containerd.log" | sed 's/.*msg="\(.*\)".*/\1/' | tr '\n' ';' | head -c 300)"
  else
    check nri_split_sync FAIL "no split sync with all $FILLERS filler pods seen: '${joined:-no "joined a split sync" line}'; $synced; containerd: $(grep -iE 'sync|oversized|split' "$LOGS/containerd.log" | tail -n 3 | tr '\n' ' ' | head -c 600)"
  fi
fi

# ---- the plan memwarden computes for the same pods on this node ------------------------------------
t0=$SECONDS
plan_rc=0
java_mw plan -f $D/pods.yaml --node auto --config $D/memwarden.yaml -o json >"$LOGS/plan.json" 2>"$LOGS/plan.err" || plan_rc=$?
note "memwarden plan (exit $plan_rc) in $((SECONDS - t0))s"
planned() { # planned NAMESPACE/POD CONTAINER: "file=value" lines from the plan
  jq -r --arg ns "${1%/*}" --arg pod "${1#*/}" --arg c "$2" \
    '.pods[] | select(.namespace == $ns and .name == $pod) | .containers[] | select(.name == $c) | .cgroup | to_entries[] | "\(.key)=\(.value)"' \
    "$LOGS/plan.json"
}

# ---- pods and containers through CRI ---------------------------------------------------------------
pod_json() { # pod_json NAME UID ANNOTATIONS-JSON [QOS-DIR]: QOS-DIR "burstable" (default), "besteffort" or "" (Guaranteed)
  local qos=${4-burstable}
  cat <<EOF
{"metadata": {"name": "$1", "namespace": "e2e", "uid": "$2", "attempt": 0},
 "log_directory": "$D/logs/$1",
 "annotations": $3,
 "linux": {"cgroup_parent": "/kubepods${qos:+/$qos}/pod$2",
           "security_context": {"namespace_options": {"network": 2}}}}
EOF
}
ctr_json() { # ctr_json NAME LIMIT-BYTES COMMAND-JSON-ARRAY (the host's $D/trigger is the container's /trigger)
  cat <<EOF
{"metadata": {"name": "$1", "attempt": 0}, "image": {"image": "docker.io/memwarden/busybox:e2e"},
 "command": $3, "log_path": "$1.log",
 "mounts": [{"container_path": "/trigger", "host_path": "$D/trigger", "readonly": true}],
 "linux": {"resources": {"memory_limit_in_bytes": $2, "cpu_shares": 2}}}
EOF
}
container_cgroup() { find $CG -type d -name "*$1*" -print -quit 2>/dev/null; }

# run_container POD-NAME UID ANNOTATIONS CTR-NAME LIMIT COMMAND [QOS-DIR]: sets $pod_id $ctr_id $ctr_cg (started:
# CRI CreateContainer only records the container; runc creates its cgroup at StartContainer). Like a runtime without
# a kubelet, the CRI request sets no oom_score_adj (0): a container's other value comes from memwarden's adjustment.
run_container() {
  pod_json "$1" "$2" "$3" "${7-burstable}" >$D/work/pod-$1.json
  ctr_json "$4" "$5" "$6" >$D/work/ctr-$4.json
  pod_id=$(cri runp $D/work/pod-$1.json 2>$D/work/err) || { echo "RunPodSandbox $1: $(cat $D/work/err)" >&2; return 1; }
  pods_created+=("$pod_id")
  ctr_id=$(cri create "$pod_id" $D/work/pod-$1.json $D/work/ctr-$4.json 2>$D/work/err) || { echo "CreateContainer $4: $(cat $D/work/err)" >&2; return 1; }
  cri start "$ctr_id" 2>$D/work/err || { echo "StartContainer $4: $(cat $D/work/err)" >&2; return 1; }
  ctr_cg=$(container_cgroup "$ctr_id")
  [ -n "$ctr_cg" ] || { echo "no cgroup for container $ctr_id under $CG" >&2; return 1; }
}

# compare_plan CHECK NAMESPACE/POD CONTAINER CGROUP: every file of the plan holds the planned value
compare_plan() {
  local name=$1 podref=$2 c=$3 cg=$4 kv file want got ok=1 detail="" n=0
  while IFS= read -r kv; do
    [ -n "$kv" ] || continue
    file=${kv%%=*}; want=${kv#*=}; n=$((n + 1))
    got=$(cat "$cg/$file" 2>&1) || true   # the error text is the detail
    detail+="$file=$got"
    if [ "$got" = "$want" ]; then
      detail+=" "
    elif [[ "$want" =~ ^[0-9]+$ && "$got" =~ ^[0-9]+$ ]] && [ "$got" = $(( want / PAGE * PAGE )) ]; then
      detail+="(plan: $want, which the kernel stores rounded down to $PAGE-byte pages) "   # page_counter_memparse
    else
      detail+="(plan: $want) "; ok=0
    fi
  done < <(planned "$podref" "$c")
  if [ "$n" = 0 ]; then
    check "$name" FAIL "no planned cgroup files for $podref $c in the plan: $(head -c 300 "$LOGS/plan.json" | tr '\n' ' ') $(tr '\n' ' ' <"$LOGS/plan.err")"
  elif ! grep -q "CreateContainer $podref:$c " "$LOGS/memwarden.log"; then
    check "$name" FAIL "${cg#$CG/}: ${detail}; but memwarden logged no CreateContainer for $podref:$c (NRI did not ask it)"
  elif [ "$ok" = 1 ]; then
    check "$name" PASS "${cg#$CG/}: ${detail}= memwarden plan for $podref $c; memwarden's NRI answer: $(grep -o "CreateContainer $podref:$c .*" "$LOGS/memwarden.log" | head -n 1 | sed 's/.*: adjust/adjust/' | head -c 400)"
  else
    check "$name" FAIL "${cg#$CG/}: ${detail}; memwarden log: $(grep -A1 "CreateContainer $podref:$c" "$LOGS/memwarden.log" | tr '\n' ' ' | head -c 600)"
  fi
}

t0=$SECONDS
if run_container qos "$QOS_UID" '{"class.memory-qos.nri.io": "silver"}' silver $((128 * MiB)) \
         '["sleep", "2147483647"]' 2>$D/work/run-err; then
  note "pod e2e/qos container silver created in $((SECONDS - t0))s: $ctr_id"
  silver_cg=$ctr_cg
  compare_plan plan_silver e2e/qos silver "$ctr_cg"
else
  check plan_silver FAIL "$(tr '\n' ' ' <$D/work/run-err)"
fi

t0=$SECONDS
HOG='["sh", "-c", "until [ -e /trigger/go ]; do sleep 0.2; done; echo hog: allocating 200MiB; dd if=/dev/zero of=/dev/null bs=200M count=1; echo hog: dd exit $?; sleep 2147483647"]'
if run_container noswap "$HOG_UID" '{}' hog $((64 * MiB)) "$HOG" 2>$D/work/run-err; then
  note "pod e2e/noswap container hog created in $((SECONDS - t0))s: $ctr_id"
  compare_plan plan_noswap e2e/noswap hog "$ctr_cg"
  hog_id=$ctr_id hog_cg=$ctr_cg pod_cg=$(dirname "$ctr_cg")
  kills0=$(awk '$1 == "oom_kill" { print $2 }' "$pod_cg/memory.events")
  if touch $D/trigger/go; then
    samples=0 nonzero=0 swap_peak=0 kills=$kills0 deadline=$((SECONDS + 120))
    while [ "$SECONDS" -lt "$deadline" ]; do
      if read -r s 2>/dev/null <"$hog_cg/memory.swap.current"; then
        samples=$((samples + 1)); [ "$s" = 0 ] || nonzero=$((nonzero + 1))
        read -r p 2>/dev/null <"$hog_cg/memory.swap.peak" && swap_peak=$p
      fi
      kills=$(awk '$1 == "oom_kill" { print $2 }' "$pod_cg/memory.events")
      [ "$kills" -gt "$kills0" ] && break
      sleep 0.1
    done
    # CRI's view (reported, not asserted): the exit reaches containerd through the shim, slowly under TCG
    for _ in $(seq 1 60); do status=$(cri status "$hog_id" 2>&1) || true; [[ "$status" == CONTAINER_EXITED* ]] && break; sleep 0.5; done
    hog_out=$(cat $D/logs/noswap/hog.log 2>/dev/null | sed 's/^[^ ]* [^ ]* [^ ]* //' | tr '\n' ';')
    pod_swap_peak=$(cat "$pod_cg/memory.swap.peak")
    detail="memory.swap.current 0 in $((samples - nonzero))/$samples samples, container memory.swap.peak $swap_peak, pod memory.swap.peak $pod_swap_peak; pod memory.events oom_kill $kills0 -> $kills; container: $status; output: $hog_out"
    if [ "$samples" -gt 0 ] && [ "$nonzero" = 0 ] && [ "$swap_peak" = 0 ] && [ "$pod_swap_peak" = 0 ] && [ "$kills" -gt "$kills0" ]; then
      check noswap_hog PASS "$detail"
    else
      check noswap_hog FAIL "$detail"
    fi
  else
    check noswap_hog FAIL "cannot create $D/trigger/go"
  fi
else
  check plan_noswap FAIL "$(tr '\n' ' ' <$D/work/run-err)"
  check noswap_hog FAIL "no container"
fi

# ---- LimitedSwap and oom_score_adj in real cgroups and processes ---------------------------------------
SLEEP='["sleep", "2147483647"]'
declare -A oom_cg=()
t0=$SECONDS
if run_container limited "$(uid_of e2e/limited)" '{"swap-behavior.memwarden.io": "LimitedSwap"}' ls $((64 * MiB)) \
     "$SLEEP" 2>$D/work/run-err; then
  oom_cg[e2e/limited:ls]=$ctr_cg
  note "pod e2e/limited container ls created in $((SECONDS - t0))s: $ctr_id"
  # the kubelet's LimitedSwap share, computed here from /proc/meminfo as the kubelet computes it in float64:
  # int64(float64(request) / float64(MemTotal) * float64(SwapTotal)) (kubelet-semantics §1)
  formula=$(awk -v req=$((32 * MiB)) '$1 == "MemTotal:" { m = $2 * 1024 } $1 == "SwapTotal:" { s = $2 * 1024 }
                                      END { printf "%d", req / m * s }' /proc/meminfo)
  want=$(planned e2e/limited ls | awk -F= '$1 == "memory.swap.max" { print $2 }')
  got=$(cat "$ctr_cg/memory.swap.max")
  detail="${ctr_cg#$CG/}: memory.swap.max $got, plan $want, kubelet formula (request 32Mi of MemTotal, times SwapTotal) $formula; plan reason: $(jq -r '.pods[] | select(.name == "limited") | .containers[0].reasons[] | select(startswith("swap:"))' "$LOGS/plan.json" | head -c 300)"
  if [[ "$got" =~ ^[0-9]+$ && "$want" =~ ^[0-9]+$ ]] && [ "$got" != 0 ] && [ "$want" = "$formula" ] &&
     [ "$got" = $(( want / PAGE * PAGE )) ]; then
    check limitedswap_swap_max PASS "$detail (the kernel keeps whole $PAGE-byte pages)"
  else
    check limitedswap_swap_max FAIL "$detail"
  fi
  compare_plan plan_limitedswap e2e/limited ls "$ctr_cg"
else
  check limitedswap_swap_max FAIL "$(tr '\n' ' ' <$D/work/run-err)"
  check plan_limitedswap FAIL "no container"
fi
t0=$SECONDS
if run_container guaranteed "$(uid_of e2e/guaranteed)" '{}' g $((64 * MiB)) "$SLEEP" "" 2>$D/work/run-err; then
  oom_cg[e2e/guaranteed:g]=$ctr_cg
else
  note "pod e2e/guaranteed: $(tr '\n' ' ' <$D/work/run-err)"
fi
if run_container besteffort "$(uid_of e2e/besteffort)" '{}' be 0 "$SLEEP" besteffort 2>$D/work/run-err; then
  oom_cg[e2e/besteffort:be]=$ctr_cg
  be_pod_id=$pod_id
else
  note "pod e2e/besteffort: $(tr '\n' ' ' <$D/work/run-err)"
fi
note "pods e2e/guaranteed and e2e/besteffort created in $((SECONDS - t0))s"

# oom_score_adj of each container's process (its cgroup's first pid: the container's init) against the plan, and the
# plan against the kubelet's GetContainerOOMScoreAdjust computed here (kubelet-semantics §3). The CRI requests carry
# no oom_score_adj, so a planned value in the process can only come from memwarden's NRI adjustment
# (LinuxContainerAdjustment.oom_score_adj, NRI v0.7+); runtimes with an older NRI drop the field as unknown (then the
# kubelet's own CRI value is what the container gets) and the check asserts that instead.
memtotal=$(awk '$1 == "MemTotal:" { print $2 * 1024 }' /proc/meminfo)
kubelet_oom() { # kubelet_oom QOS REQUEST-BYTES
  case "$1" in
    Guaranteed) echo -997 ;;
    BestEffort) echo 1000 ;;
    *) local a=$(( 1000 - 1000 * $2 / memtotal ))
       if [ "$a" -lt 3 ]; then a=3; elif [ "$a" = 1000 ]; then a=999; fi
       echo "$a" ;;
  esac
}
oom_ok=1 oom_detail=""
for key in e2e/limited:ls e2e/guaranteed:g e2e/besteffort:be; do
  podref=${key%%:*} c=${key#*:}
  cg=${oom_cg[$key]:-}
  if [ -z "$cg" ]; then oom_ok=0; oom_detail+="$key: no container; "; continue; fi
  pid=$(head -n 1 "$cg/cgroup.procs")
  got=$(cat "/proc/$pid/oom_score_adj")
  want=$(jq -r --arg p "${podref#*/}" --arg c "$c" '.pods[] | select(.name == $p) | .containers[] | select(.name == $c) | .oomScoreAdj' "$LOGS/plan.json")
  qos=$(jq -r --arg p "${podref#*/}" '.pods[] | select(.name == $p) | .qosClass' "$LOGS/plan.json")
  req=$(jq -r --arg p "${podref#*/}" '.pods[] | select(.name == $p) | .memoryRequestBytes // 0' "$LOGS/plan.json")
  kubelet=$(kubelet_oom "$qos" "$req")
  sent=$(grep -o "CreateContainer $podref:$c .*" "$LOGS/memwarden.log" | grep -o 'oom_score_adj { value: -\?[0-9]*' | grep -o -- '-\?[0-9]*$' | head -n 1) || true
  expect=$want
  [ "$NRI_OOM_ADJ" = yes ] || expect=0
  oom_detail+="$key ($qos) pid $pid oom_score_adj $got, plan $want, kubelet formula $kubelet, memwarden sent ${sent:-nothing}; "
  if [ "$got" != "$expect" ] || [ "$want" != "$kubelet" ] || [ "${sent:-}" != "$want" ]; then oom_ok=0; fi
done
if [ "$NRI_OOM_ADJ" = yes ]; then
  oom_detail+="(NRI $NRI_VERSION applies the adjustment: expected the plan)"
else
  oom_detail+="(NRI $NRI_VERSION drops LinuxContainerAdjustment.oom_score_adj, added in v0.7: expected the CRI request's 0; the kubelet sets its value through CRI there)"
fi
if [ "$oom_ok" = 1 ]; then check oom_score_adj PASS "$oom_detail"; else check oom_score_adj FAIL "$oom_detail"; fi

# Memory-backed mounts of a container that may swap are mounted noswap (KEP-2400; kubelet-semantics §1): memwarden
# replaces each tmpfs mount of the OCI spec (runc's /dev here) through the NRI mount adjustment when the kernel
# supports noswap (6.12 does); a NoSwap container's mounts are left as they are. Read in the container's own mount
# namespace: /proc/PID/mountinfo, field 5 the mount point, after " - " the type, the source and the super options.
tmpfs_opts() { # tmpfs_opts PID MOUNTPOINT: the super options of that tmpfs mount, or "none"
  awk -v mp="$2" '$5 == mp { for (i = 6; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "tmpfs") print $(i + 3); exit } }' \
    "/proc/$1/mountinfo" | grep . || echo none
}
ns_ok=1 ns_detail=""
for key in e2e/limited:ls e2e/guaranteed:g; do
  cg=${oom_cg[$key]:-}
  if [ -z "$cg" ]; then ns_ok=0; ns_detail+="$key: no container; "; continue; fi
  pid=$(head -n 1 "$cg/cgroup.procs")
  opts=$(tmpfs_opts "$pid" /dev)
  ns_detail+="$key /dev tmpfs options $opts; "
  has=no; case ",$opts," in *,noswap,*) has=yes ;; esac
  # each must have a tmpfs /dev; the LimitedSwap container's carries noswap, the NoSwap (Guaranteed) one's does not
  if [ "$opts" = none ]; then ns_ok=0
  elif [ "$key" = e2e/limited:ls ] && [ "$has" != yes ]; then ns_ok=0
  elif [ "$key" = e2e/guaranteed:g ] && [ "$has" != no ]; then ns_ok=0
  fi
done
reported=$(grep -c "CreateContainer e2e/limited:ls: bind mount /dev/shm from host tmpfs" "$LOGS/memwarden.log") || true
ns_detail+="memwarden reported the LimitedSwap container's /dev/shm bind of a host tmpfs $reported time(s)"
# containerd binds the sandbox's /dev/shm (a host tmpfs, not noswap) into each container: NRI cannot change it,
# memwarden must say so rather than leave it silent
[ "${reported:-0}" -ge 1 ] || ns_ok=0
if [ "$ns_ok" = 1 ]; then check noswap_tmpfs PASS "$ns_detail"; else check noswap_tmpfs FAIL "$ns_detail"; fi

note "memwarden's decisions: $(grep -E 'CreateContainer e2e' "$LOGS/memwarden.log" | sed 's/.*CreateContainer/CreateContainer/' | tr '\n' ';' | head -c 1500)"

# ==== phase 2: memwarden agent with the (mock) Kubernetes API =======================================
# nri stops: every container keeps its values (the plugin never writes on exit)
# (the silver container's own cgroup: its pod's directory also holds the sandbox's, whose values are all max)
silver_cg=${silver_cg:-}
before=$(cat "$silver_cg/memory.high" "$silver_cg/memory.max" "$silver_cg/memory.swap.max" 2>&1 | tr '\n' ' ')
kill -TERM $mw_pid 2>/dev/null || true   # already gone: the check says so
for _ in $(seq 1 100); do kill -0 $mw_pid 2>/dev/null || break; sleep 0.2; done
nri_rc=0; wait $mw_pid 2>/dev/null || nri_rc=$?
after=$(cat "$silver_cg/memory.high" "$silver_cg/memory.max" "$silver_cg/memory.swap.max" 2>&1 | tr '\n' ' ')
if kill -0 $mw_pid 2>/dev/null; then
  check nri_stop_keeps_values FAIL "memwarden nri still running 20s after SIGTERM"
elif [ -n "$silver_cg" ] && [ "$before" = "$after" ]; then
  check nri_stop_keeps_values PASS "memwarden nri (pid $mw_pid) exited on SIGTERM (status $nri_rc); e2e/qos silver memory.high/max/swap.max still $after"
else
  check nri_stop_keeps_values FAIL "before: $before; after: $after (cgroup ${silver_cg:-not found})"
fi

cat >$D/agent.yaml <<'EOF'
memoryQos:
  classes:
    - name: bronze
      swaplimitratio: 0.5
    - name: silver
      swaplimitratio: 0.2
  unifiedannotations:
    - memory.swap.max
    - memory.high
annotations:
  allowed: [swap-behavior]
  allowedSwapBehaviors: [LimitedSwap]
agent:
  failSwapOn: warn          # the guest has swap and no kubelet config (failSwapOn true): serve anyway
loops:
  period: 1s
  guard: {enabled: false}   # a 2 GiB guest: no evictions in this check
  offload: {enabled: false}
kubernetes:
  enabled: true
  taintSwapNodes: true
  watchAllPods: true        # fabric8's mock server ignores the spec.nodeName field selector (lists nothing)
EOF
t0=$SECONDS
KUBECONFIG=$D/api/kubeconfig java_daemon agent --config $D/agent.yaml --nri-socket "$NRI_SOCK" --listen 127.0.0.1:$STATUS_PORT \
  --node-name mw-e2e >"$LOGS/agent.log" 2>&1 &
agent_pid=$!
pids+=($agent_pid)
agent_synced() { grep -q 'synchronized:' "$LOGS/agent.log"; }
if wait_until 150 agent_synced; then
  check agent_registered PASS "memwarden agent registered and synchronized after $((SECONDS - t0))s: $(grep -o 'synchronized:.*' "$LOGS/agent.log" | head -n 1)$(grep -o 'joined a split sync.*' "$LOGS/agent.log" | head -n 1 | sed 's/^/; /'); start-up: $(grep -o 'memwarden agent: warning: [^;]*' "$LOGS/agent.log" | head -n 1 | head -c 200)"
else
  check agent_registered FAIL "after $((SECONDS - t0))s; alive: $(kill -0 $agent_pid 2>/dev/null && echo yes || echo no); log: $(tail -n 8 "$LOGS/agent.log" | tr '\n' ' ' | head -c 1200)"
fi

# the running containers, re-planned from the API's specs, are in /status with their reasons (a container
# synchronized before the agent's pod cache filled is planned again, and updated, once its pod arrives)
status_json() { curl -sf --max-time 10 "$STATUS/status"; }
qos_reason() { status_json | jq -r '.containers[] | select(.namespace == "e2e" and .pod == "qos") | .plan.reasons[0]'; }
from_api() { [[ "$(qos_reason)" == "pod spec from kubernetes API"* ]]; }
wait_until 90 from_api || true   # the check reports what /status says
reasons=$(qos_reason) || true
if [[ "$reasons" == "pod spec from kubernetes API"* ]]; then
  check agent_status PASS "/status lists e2e/qos silver, first reason: $reasons$(grep -o ' arrived: planned again.*' "$LOGS/agent.log" | head -n 1); containers: $(status_json | jq -c '[.containers[] | "\(.namespace)/\(.pod)/\(.container)"]')"
else
  check agent_status FAIL "e2e/qos reasons: '$reasons'; status: $(status_json | head -c 600 | tr '\n' ' ')"
fi

labels=$(api /api/v1/nodes/mw-e2e | jq -c '{labels: .metadata.labels, taints: .spec.taints}') || true
if jq -e '.labels["memwarden.io/swap"] == "NoSwap" and (.taints | any(.key == "memwarden.io/swap" and .effect == "NoSchedule"))' <<<"$labels" >/dev/null 2>&1; then
  check agent_node_marked PASS "Node mw-e2e: $labels"
else
  check agent_node_marked FAIL "Node mw-e2e: $labels"
fi

# a new pod from the API's spec: bronze class (memory.high = 64Mi of a 128Mi limit), no swap; it fills a tmpfs
# file (its rootfs) past memory.high, which throttles it; throttle relief must raise memory.high so it finishes
FILL='["sh", "-c", "until [ -e /trigger/fill ]; do sleep 0.2; done; echo fill: start; dd if=/dev/zero of=/fill bs=1M count=100 2>&1 | tail -n 1; echo fill: dd exit $?; sleep 2147483647"]'
t0=$SECONDS
if run_container relief "$RELIEF_UID" '{"class.memory-qos.nri.io": "bronze", "memory.swap.max.memory-qos.nri.io": "0"}' \
       fill $((128 * MiB)) "$FILL" 2>$D/work/run-err; then
  relief_cg=$ctr_cg
  planned_high=$(cat "$relief_cg/memory.high")
  note "pod e2e/relief container fill created in $((SECONDS - t0))s: memory.high $planned_high, memory.max $(cat "$relief_cg/memory.max"), memory.swap.max $(cat "$relief_cg/memory.swap.max"); agent: $(grep -o 'CreateContainer e2e/relief:fill.*' "$LOGS/agent.log" | head -c 300)"
  touch $D/trigger/fill
  filled() { grep -q 'fill: dd exit' $D/logs/relief/fill.log 2>/dev/null; }
  t0=$SECONDS
  wait_until 240 filled || true   # the check reports
  high_now=$(cat "$relief_cg/memory.high")
  fill_out=$(sed 's/^[^ ]* [^ ]* [^ ]* //' $D/logs/relief/fill.log 2>/dev/null | tr '\n' ';')
  actions=$(status_json | jq -c '[.recentActions[]? | select(.pod == "relief") | "\(.loop): \(.action) (\(.result))"]') || true
  detail="planned memory.high $planned_high, now $high_now; fill: $fill_out after $((SECONDS - t0))s; memory.events: $(tr '\n' ' ' <"$relief_cg/memory.events"); actions: $(head -c 600 <<<"$actions")"
  if filled && grep -q 'fill: dd exit 0' $D/logs/relief/fill.log && [ "$high_now" = max -o "${high_now:-0}" -gt "${planned_high:-0}" ] 2>/dev/null &&
     [[ "$actions" == *throttle-relief* ]]; then
    check agent_throttle_relief PASS "$detail"
  else
    check agent_throttle_relief FAIL "$detail"
  fi
else
  check agent_throttle_relief FAIL "$(tr '\n' ' ' <$D/work/run-err)"
fi

events=$(api /api/v1/namespaces/e2e/events | jq -c '[.items[] | select(.involvedObject.name == "relief") | "\(.type) \(.reason) x\(.count): \(.message)"]') || true
if [[ "$events" == *MemwardenThrottleRelief* ]]; then
  check agent_events PASS "events on e2e/relief: $(head -c 500 <<<"$events")"
else
  check agent_events FAIL "events on e2e/relief: $events; all: $(api /api/v1/events | jq -c '[.items[] | .reason]')"
fi

metrics=$(curl -sf --max-time 10 "$STATUS/metrics") || true
m_high=$(grep -E '^memwarden_container_memory_high_bytes\{[^}]*pod="relief"' <<<"$metrics" | head -n 1)
m_nri=$(grep -E '^memwarden_nri_request_duration_seconds_count\{method="CreateContainer"\}' <<<"$metrics") || true
m_act=$(grep -E '^memwarden_loop_actions_total\{[^}]*loop="throttle-relief"' <<<"$metrics" | head -n 1)
if [ -n "$m_high" ] && [ -n "$m_nri" ] && [ -n "$m_act" ]; then
  check agent_metrics PASS "$m_high; $m_nri; $m_act"
else
  check agent_metrics FAIL "high: '$m_high'; nri: '$m_nri'; actions: '$m_act'; $(grep -c '^memwarden_' <<<"$metrics") memwarden_ samples"
fi

# lifecycle while the agent is connected: CRI StopPodSandbox + RemovePodSandbox of e2e/besteffort reach it as NRI
# StopContainer (its own RPC in every NRI version) and StateChange REMOVE_CONTAINER / REMOVE_POD_SANDBOX (the
# lifecycle events of NRI before v0.12); /status must drop the container
be_listed() { status_json | jq -e '[.containers[] | select(.namespace == "e2e" and .pod == "besteffort")] | length > 0' >/dev/null; }
be_gone() { ! be_listed; }
nri_count() { curl -sf --max-time 10 "$STATUS/metrics" | grep -E "^memwarden_nri_request_duration_seconds_count\{method=\"$1\"\}" | awk '{ print $2 }'; }
t0=$SECONDS
listed_before=no
if be_listed; then listed_before=yes; fi
stops0=$(nri_count StopContainer) || true
changes0=$(nri_count StateChange) || true
lc_rc=0
if [ -n "${be_pod_id:-}" ]; then
  { cri stopp "$be_pod_id" && cri rmp "$be_pod_id"; } >$D/work/lc-out 2>&1 || lc_rc=$?
else
  lc_rc=none
fi
gone=no
if wait_until 60 be_gone; then gone=yes; fi
stops1=$(nri_count StopContainer) || true
changes1=$(nri_count StateChange) || true
detail="e2e/besteffort listed in /status before: $listed_before, after stop + remove (CRI status $lc_rc): $([ $gone = yes ] && echo gone || echo "still listed") after $((SECONDS - t0))s; NRI StopContainer ${stops0:-0} -> ${stops1:-0}, StateChange ${changes0:-0} -> ${changes1:-0}"
if [ "$listed_before" = yes ] && [ "$lc_rc" = 0 ] && [ "$gone" = yes ] &&
   awk -v a="${stops0:-0}" -v b="${stops1:-0}" -v c="${changes0:-0}" -v d="${changes1:-0}" 'BEGIN { exit !(b > a && d > c) }'; then
  check agent_lifecycle PASS "$detail"
else
  check agent_lifecycle FAIL "$detail; $(tr '\n' ' ' <$D/work/lc-out 2>/dev/null | head -c 300)"
fi

# SIGTERM: the agent stops and leaves every value where it is (the raised memory.high stays)
high_before=$(cat "${relief_cg:-/nonexistent}/memory.high" 2>&1) || true
t0=$SECONDS
kill -TERM $agent_pid 2>/dev/null || true
for _ in $(seq 1 150); do kill -0 $agent_pid 2>/dev/null || break; sleep 0.2; done
agent_rc=0; wait $agent_pid 2>/dev/null || agent_rc=$?
high_after=$(cat "${relief_cg:-/nonexistent}/memory.high" 2>&1) || true
if kill -0 $agent_pid 2>/dev/null; then
  check agent_shutdown FAIL "still running 30s after SIGTERM"
elif [ "$high_before" = "$high_after" ] && [ -n "${relief_cg:-}" ]; then
  check agent_shutdown PASS "memwarden agent (pid $agent_pid) stopped $((SECONDS - t0))s after SIGTERM (status $agent_rc; log: $(grep -o 'stopping: .*' "$LOGS/agent.log" | head -n 1)); e2e/relief memory.high still $high_after"
else
  check agent_shutdown FAIL "memory.high $high_before before, $high_after after"
fi
check script PASS "no unexpected command error"
exit $failed
