#!/usr/bin/env bash
# Runs one command inside a throw-away qemu VM (TCG; no KVM needed) booted with a Debian 13 kernel whose
# root file system is this host's / shared read-only over virtiofs, and whose PID 1 is test/vm/init.sh
# (cgroup v2 with memory/pids/cpu/io enabled, optional NVMe swap disk). See test/vm/README.md.
#
# usage: test/vm/run-in-vm.sh [options] [--] COMMAND [ARG...]
#   --kernel PATH       guest kernel (default: the one test/vm/fetch-kernel.sh prints)
#   --swap SIZE         attach a sparse raw disk of SIZE (truncate(1) syntax, e.g. 1G) as the guest's NVMe
#                       drive and swap on it
#   --timeout SECONDS   give up (and kill the VM) after this long, boot included (default 600)
#   --results DIR       keep the results here (created; must be empty if it exists). Default: a temp dir,
#                       removed at exit. The guest sees it read-write at the same path, and as $MW_RESULTS.
#   --env NAME=VALUE    set an environment variable for the command (repeatable); --env NAME passes the
#                       host's value
#   --mem MIB           guest RAM (default 2048)
#   --smp N             guest CPUs (default 2)
#   --append ARGS       extra kernel command line arguments
#   --balloon           attach a virtio memory balloon (virtio-balloon-pci, QEMU's defaults: no deflate-on-oom, no
#                       free page reporting); init.sh loads the guest kernel's virtio_balloon module
#   --qmp SOCKET        serve QMP on this unix socket (created by qemu; path under 107 bytes), so the host can
#                       drive the balloon: {"execute":"balloon","arguments":{"value":BYTES}}
#
# The command runs with the working directory of the caller (paths are the same in the guest), as root,
# with PATH, HOME=/tmp/home, LANG=C.UTF-8, MW_RESULTS and the --env variables. The guest's /tmp is a tmpfs
# (only the host /tmp entry holding the working directory stays visible, read-only).
#
# Prints the command's stdout on stdout and its stderr on stderr, and exits with its exit code.
# Exits 125 when the VM could not run it (boot failure, timeout, crash, signal), with the reason and the
# last console lines on stderr. The results dir holds stdout, stderr, rc, console.log (the serial console),
# dmesg.log, guest-info (kernel, cgroup controllers, swaps). Needs root (virtiofsd).
set -uo pipefail

here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
QEMU=${MEMWARDEN_VM_QEMU:-qemu-system-x86_64}
VIRTIOFSD=${MEMWARDEN_VM_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
HARNESS_FAILURE=125

die() { echo "run-in-vm: $*" >&2; exit $HARNESS_FAILURE; }
usage() { sed -n '2,/^set -uo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2; exit $HARNESS_FAILURE; }

kernel="" swap="" timeout=600 results="" mem=2048 smp=2 append="" balloon=0 qmp=""
envs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernel=${2:?}; shift 2 ;;
    --swap) swap=${2:?}; shift 2 ;;
    --timeout) timeout=${2:?}; shift 2 ;;
    --results) results=${2:?}; shift 2 ;;
    --env) envs+=("${2:?}"); shift 2 ;;
    --mem) mem=${2:?}; shift 2 ;;
    --smp) smp=${2:?}; shift 2 ;;
    --append) append=${2:?}; shift 2 ;;
    --balloon) balloon=1; shift ;;
    --qmp) qmp=${2:?}; shift 2 ;;
    -h|--help) usage ;;
    --) shift; break ;;
    -*) echo "run-in-vm: unknown option $1" >&2; usage ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || usage
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "--timeout must be a positive number of seconds"
[[ "$mem" =~ ^[0-9]+$ ]] || die "--mem must be MiB"
[[ "$smp" =~ ^[0-9]+$ ]] || die "--smp must be a number"

[ "$(id -u)" -eq 0 ] || die "needs root (virtiofsd shares the host's / with the guest)"
command -v "$QEMU" >/dev/null 2>&1 || die "$QEMU not found; run test/vm/fetch-kernel.sh (installs qemu-system-x86)"
[ -x "$VIRTIOFSD" ] || die "$VIRTIOFSD not found; run test/vm/fetch-kernel.sh (installs qemu-system-x86)"
command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) not found"
if [ -z "$kernel" ]; then
  kernel=$("$here/fetch-kernel.sh") || die "test/vm/fetch-kernel.sh failed"
fi
[ -r "$kernel" ] || die "kernel $kernel not readable"
if [ -n "$qmp" ]; then
  [ "${#qmp}" -lt 108 ] || die "--qmp: the socket path is longer than 107 bytes: $qmp"
  [ -d "$(dirname "$qmp")" ] || die "--qmp: no directory $(dirname "$qmp")"
  [ ! -e "$qmp" ] || die "--qmp: $qmp exists already"
fi
# the guest kernel's virtio_balloon module (Debian builds it as a module): from the tree fetch-kernel.sh unpacked,
# <root>/boot/vmlinuz-VERSION beside <root>/usr/lib/modules/VERSION
balloon_module=""
if [ "$balloon" = 1 ]; then
  kver=$(basename "$kernel"); kver=${kver#vmlinuz-}
  for m in "$(dirname "$kernel")/../usr/lib/modules/$kver/kernel/drivers/virtio/virtio_balloon.ko"{,.xz,.zst,.gz} \
           "$(dirname "$kernel")/../lib/modules/$kver/kernel/drivers/virtio/virtio_balloon.ko"{,.xz,.zst,.gz}; do
    if [ -r "$m" ]; then balloon_module=$(readlink -f "$m"); break; fi
  done
  [ -n "$balloon_module" ] || echo "run-in-vm: warning: --balloon: no virtio_balloon module beside $kernel (the guest may have it built in)" >&2
fi
init=$here/init.sh
[ -x "$init" ] || die "$init is not executable"
case "$init" in *[[:space:]]*) die "the path of init.sh must not contain white space: $init" ;; esac

# ---- state; everything below is removed by cleanup ---------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/memwarden-vm.XXXXXX") || die "mktemp failed"
pids=()          # qemu and virtiofsd, in start order
qemu_pid=""
cleanup() {
  local p i
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    p=${pids[$i]}
    kill -0 "$p" 2>/dev/null && kill -TERM "$p" 2>/dev/null
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  pids=()
  rm -rf "$work"
}
on_signal() { echo "run-in-vm: interrupted by SIG$1; stopping the VM" >&2; cleanup; trap - EXIT; exit $HARNESS_FAILURE; }
trap cleanup EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP

if [ -z "$results" ]; then
  results=$work/results
  mkdir "$results"
else
  mkdir -p "$results" || die "cannot create $results"
  results=$(cd "$results" && pwd)
  [ -z "$(ls -A "$results")" ] || die "--results $results is not empty"
fi
mkdir -p "$results/.mw"

# ---- what the guest runs ---------------------------------------------------------------------------
cwd=$(pwd)
{
  printf 'MW_RESULTS_PATH=%q\n' "$results"
  printf 'MW_CWD=%q\n' "$cwd"
  printf 'MW_SWAP=%q\n' "$([ -n "$swap" ] && echo 1 || echo 0)"
  printf 'MW_BALLOON=%q\n' "$balloon"
  printf 'MW_BALLOON_MODULE=%q\n' "$balloon_module"
} >"$results/.mw/config"
{
  echo "# written by run-in-vm.sh; run by init.sh"
  printf 'export MW_RESULTS=%q\n' "$results"
  for e in "${envs[@]}"; do
    case "$e" in
      *=*) name=${e%%=*}; value=${e#*=} ;;
      *) name=$e; value=${!e-} ;;
    esac
    [[ "$name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "--env: bad variable name '$name'"
    printf 'export %s=%q\n' "$name" "$value"
  done
  printf 'cd %q || exit 126\n' "$cwd"
  printf 'exec'; printf ' %q' "$@"; printf '\n'
} >"$results/.mw/command"

# ---- virtiofs: the host's / (read-only view) and the results dir ----------------------------------
# virtiofsd has no read-only mode, so it serves a read-only recursive bind of / made in a private mount
# namespace (the host's mounts are not changed). The host's /proc, /sys and /dev are left out of the view.
# sandbox=chroot keeps each virtiofsd a single process (sandbox=namespace forks a child into a new PID
# namespace, which outlives a killed parent for a moment), so cleanup can wait for it.
view=$work/rootfs
mkdir "$view"
unshare --mount --propagation private -- bash -c '
  set -e
  view=$1; shift
  mount --rbind / "$view"
  for api in proc sys dev; do umount -R -l "$view/$api" 2>/dev/null || true; done
  mount -o remount,bind,ro "$view"
  findmnt -rn -o TARGET -R "$view" | tail -n +2 | while read -r m; do
    mount -o remount,bind,ro "$(printf "%b" "$m")" 2>/dev/null || true
  done
  exec "$@"' view-ro "$view" \
  "$VIRTIOFSD" --socket-path="$work/root.sock" -o source="$view" -o cache=always -o sandbox=chroot \
  >"$work/virtiofsd-root.log" 2>&1 &
pids+=($!)
"$VIRTIOFSD" --socket-path="$work/results.sock" -o source="$results" -o cache=auto -o sandbox=chroot \
  >"$work/virtiofsd-results.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  [ -S "$work/root.sock" ] && [ -S "$work/results.sock" ] && break
  sleep 0.1
done
[ -S "$work/root.sock" ] || die "virtiofsd for / did not start: $(tail -n 5 "$work/virtiofsd-root.log")"
[ -S "$work/results.sock" ] || die "virtiofsd for the results did not start: $(tail -n 5 "$work/virtiofsd-results.log")"

# ---- the VM ----------------------------------------------------------------------------------------
disk=()
if [ -n "$swap" ]; then
  truncate -s "$swap" "$work/swap.img" || die "cannot create a $swap swap image"
  disk=(-drive "file=$work/swap.img,if=none,id=swapdisk,format=raw,cache=unsafe"
        -device "nvme,serial=memwarden-swap,drive=swapdisk")
fi
balloon_args=()
[ "$balloon" = 1 ] && balloon_args=(-device virtio-balloon-pci,id=balloon0)
[ -n "$qmp" ] && balloon_args+=(-qmp "unix:$qmp,server=on,wait=off")
cmdline="console=ttyS0 rootfstype=virtiofs root=mwroot ro init=$init panic=-1 loglevel=4 $append"
start=$(date +%s)
# one TCG thread for every vCPU: with multi-threaded TCG (QEMU 7.2) a vCPU may still run its translation of kernel
# text that another vCPU has just patched (static keys go through int3 in text_poke_bp), and the guest dies with
# "Oops: int3" in a patched function (seen once at boot, in sched_clock_cpu); single-threaded TCG runs the vCPUs in
# turn and never executes stale code
"$QEMU" -name memwarden-vm -nodefaults -no-user-config -nographic -no-reboot \
  -accel tcg,thread=single -cpu max -machine q35,memory-backend=mem -smp "$smp" -m "$mem" \
  -object "memory-backend-memfd,id=mem,size=${mem}M,share=on" \
  -chardev "socket,id=fsroot,path=$work/root.sock" -device vhost-user-fs-pci,queue-size=1024,chardev=fsroot,tag=mwroot \
  -chardev "socket,id=fsres,path=$work/results.sock" -device vhost-user-fs-pci,queue-size=1024,chardev=fsres,tag=mwresults \
  "${disk[@]}" "${balloon_args[@]}" \
  -serial "file:$results/console.log" \
  -kernel "$kernel" -append "$cmdline" \
  </dev/null >"$work/qemu.log" 2>&1 &
qemu_pid=$!
pids+=("$qemu_pid")

timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
  if [ $(( $(date +%s) - start )) -ge "$timeout" ]; then timed_out=1; break; fi
  sleep 0.5
done
elapsed=$(( $(date +%s) - start ))

last_lines() {
  echo "run-in-vm: last console lines:" >&2
  tail -n "${1:-25}" "$results/console.log" 2>/dev/null | sed 's/^/  | /' >&2
  if [ -s "$work/qemu.log" ]; then echo "run-in-vm: qemu said:" >&2; sed 's/^/  | /' "$work/qemu.log" >&2; fi
  if [ -s "$results/init-error" ]; then echo "run-in-vm: guest init said:" >&2; sed 's/^/  | /' "$results/init-error" >&2; fi
}

if [ "$timed_out" = 1 ]; then
  echo "run-in-vm: VM timed out after ${timeout}s; killing it" >&2
  last_lines 40
  if [ -s "$results/stdout" ] || [ -s "$results/stderr" ]; then
    echo "run-in-vm: the command's output so far (last lines):" >&2
    cat "$results/stdout" "$results/stderr" 2>/dev/null | tail -n 40 | sed 's/^/  > /' >&2
  fi
  exit $HARNESS_FAILURE
fi
wait "$qemu_pid"; qemu_rc=$?
if [ ! -f "$results/rc" ]; then
  echo "run-in-vm: the VM stopped after ${elapsed}s (qemu exit status $qemu_rc) without the command's exit code: boot failure or guest crash" >&2
  last_lines 40
  exit $HARNESS_FAILURE
fi
rc=$(cat "$results/rc")
[[ "$rc" =~ ^[0-9]+$ ]] || { echo "run-in-vm: bad exit code file: '$rc'" >&2; exit $HARNESS_FAILURE; }
cat "$results/stdout" 2>/dev/null
cat "$results/stderr" >&2 2>/dev/null
echo "run-in-vm: guest command exited with $rc; VM ran ${elapsed}s" >&2
exit "$rc"
