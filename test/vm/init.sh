#!/bin/bash
# PID 1 of the vm test tier's guest (started by test/vm/run-in-vm.sh as init=<this file>).
#
# The guest's root file system is the host's / over virtiofs, read-only. This script:
#   - mounts proc, sysfs, devtmpfs, tmpfs on /run, /tmp, /dev/shm (the host's /tmp is hidden, except the
#     top-level entry holding the command's working directory, bound read-only from the host's view),
#     and cgroup2 on /sys/fs/cgroup with +memory +pids +cpu +io enabled at the root;
#   - mounts the results share (virtiofs tag "mwresults", read-write) at /run/memwarden/results and again
#     at the same absolute path it has on the host, so paths are the same on both sides;
#   - when the host attached an NVMe swap disk, runs mkswap + swapon on it;
#   - when the host attached a balloon (--balloon), loads the guest kernel's virtio_balloon module (finit_module(2)
#     through perl, as there may be no kmod); a failure is a warning in <results>/.mw/balloon-module, not fatal;
#   - runs <results>/.mw/command with bash, writing <results>/stdout, <results>/stderr, <results>/rc;
#   - saves the kernel log to <results>/dmesg.log and powers off.
# Anything that goes wrong before the command runs is written to the console and <results>/init-error;
# the host then reports a boot failure with the console's last lines.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home LANG=C.UTF-8
umask 022

say() { local up=?; [ -r /proc/uptime ] && read -r up _ </proc/uptime; echo "mw-init: [${up}s] $*"; }

power_off() {
  sync
  umount "${MW_RESULTS_PATH:-/nonexistent}" 2>/dev/null
  umount /run/memwarden/results 2>/dev/null
  # reboot(2) with LINUX_REBOOT_CMD_POWER_OFF: synchronous, never returns when it works
  perl -e 'syscall(169, 0xfee1dead, 672274793, 0x4321fedc)'
  poweroff -f
  echo o >/proc/sysrq-trigger
  read -r -t 30 _ </dev/console   # a builtin wait: executables may be gone once devices shut down
  exit 1                          # init exiting panics the kernel; with panic=-1 and -no-reboot qemu exits
}

fail() {
  say "ERROR: $*"
  [ -d /run/memwarden/results/.mw ] && echo "$*" >>/run/memwarden/results/init-error
  power_off
}

mount -t proc -o nosuid,nodev,noexec proc /proc || fail "mount /proc"
say "init started"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fail "mount /sys"
mount -t devtmpfs -o nosuid,mode=755 devtmpfs /dev || fail "mount /dev"
mkdir -p /dev/shm /dev/pts
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /dev/shm || fail "mount /dev/shm"
mount -t devpts -o nosuid,noexec devpts /dev/pts 2>/dev/null
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run || fail "mount /run"

# results share first: it carries the configuration written by the host
mkdir -p /run/memwarden/results /run/memwarden/host-tmp
mount -t virtiofs mwresults /run/memwarden/results || fail "mount the results share (virtiofs tag mwresults)"
[ -r /run/memwarden/results/.mw/config ] || fail "no .mw/config in the results share"
MW_RESULTS_PATH="" MW_CWD=/ MW_SWAP=0 MW_BALLOON=0 MW_BALLOON_MODULE=""
# shellcheck disable=SC1091
. /run/memwarden/results/.mw/config

# /tmp: a tmpfs, keeping the host's /tmp entry that holds the working directory (read-only)
mount --bind /tmp /run/memwarden/host-tmp || fail "bind the host's /tmp"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp || fail "mount /tmp"
case "$MW_CWD" in
  /tmp/?*)
    top=${MW_CWD#/tmp/}; top=/tmp/${top%%/*}
    if [ -d "/run/memwarden/host-tmp/${top#/tmp/}" ]; then
      mkdir -p "$top" && mount --bind "/run/memwarden/host-tmp/${top#/tmp/}" "$top" || fail "bind $top"
    fi
    ;;
esac
mkdir -p "$HOME"

# the results share again at its host path
if [ -n "$MW_RESULTS_PATH" ] && [ "$MW_RESULTS_PATH" != /run/memwarden/results ]; then
  mkdir -p "$MW_RESULTS_PATH" 2>/dev/null
  mount --bind /run/memwarden/results "$MW_RESULTS_PATH" || fail "bind the results share at $MW_RESULTS_PATH"
fi
R=/run/memwarden/results

# cgroup v2 with the controllers the tests use enabled for the root's children
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
for c in memory pids cpu io; do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || say "WARNING: cannot enable +$c at the cgroup root"
done

if [ "$MW_SWAP" = 1 ]; then
  for _ in $(seq 1 100); do [ -b /dev/nvme0n1 ] && break; sleep 0.2; done
  [ -b /dev/nvme0n1 ] || fail "swap requested but /dev/nvme0n1 did not appear"
  mkswap /dev/nvme0n1 >/dev/null || fail "mkswap /dev/nvme0n1"
  swapon /dev/nvme0n1 || fail "swapon /dev/nvme0n1"
fi

if [ "$MW_BALLOON" = 1 ]; then
  if [ -d /sys/bus/virtio/drivers/virtio_balloon ]; then
    balloon_note="virtio_balloon built in or loaded"
  elif [ -z "$MW_BALLOON_MODULE" ]; then
    balloon_note="no virtio_balloon module was found beside the guest kernel on the host"
  else
    # finit_module(fd, "", MODULE_INIT_COMPRESSED_FILE for .xz/.zst/.gz): the kernel decompresses it itself
    case "$MW_BALLOON_MODULE" in *.xz|*.zst|*.gz) mflags=4 ;; *) mflags=0 ;; esac
    if balloon_note=$(perl -e 'open(my $f, "<", $ARGV[0]) or die "open $ARGV[0]: $!\n"; my $params = "";
        syscall(313, fileno($f), $params, $ARGV[1] + 0) == 0 or die "finit_module $ARGV[0]: $!\n"' \
        "$MW_BALLOON_MODULE" "$mflags" 2>&1); then
      balloon_note="loaded $MW_BALLOON_MODULE"
    fi
  fi
  for _ in $(seq 1 50); do ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio* >/dev/null 2>&1 && break; sleep 0.1; done
  ls -d /sys/bus/virtio/drivers/virtio_balloon/virtio* >/dev/null 2>&1 || say "WARNING: no balloon device bound: $balloon_note"
  echo "$balloon_note" >"$R/.mw/balloon-module"
fi

{
  echo "kernel: $(uname -r)"
  echo "cgroup.controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "cgroup.subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
  echo "swaps:"; cat /proc/swaps
  grep -E '^(MemTotal|MemFree|SwapTotal|SwapFree):' /proc/meminfo
  [ "$MW_BALLOON" = 1 ] && echo "balloon: $(cat "$R/.mw/balloon-module" 2>/dev/null);" \
    "bound: $(ls /sys/bus/virtio/drivers/virtio_balloon 2>/dev/null | grep '^virtio' | tr '\n' ' ')"
  echo "boot-to-command seconds: $(cut -d' ' -f1 /proc/uptime)"
} >"$R/guest-info" 2>&1

say "running the command"
start=$(cut -d' ' -f1 /proc/uptime)
bash "$R/.mw/command" >"$R/stdout" 2>"$R/stderr" </dev/null
rc=$?
echo "$rc" >"$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
say "command exited with $rc after $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime)s"
dmesg >"$R/dmesg.log" 2>&1
power_off
