#!/usr/bin/env bash
# Prepares this machine for the vm test tier and prints the path of the guest kernel (vmlinuz) on stdout.
#
#  1. Host tools: qemu-system-x86_64 and /usr/lib/qemu/virtiofsd (Debian 12: package qemu-system-x86).
#     When missing and we are root, installs them from the machine's own apt sources
#     (apt-get update; apt-get install -y --no-install-recommends qemu-system-x86).
#  2. Guest kernel: Debian 13 (trixie) cloud kernel, fetched through a PRIVATE apt configuration
#     (own sources.list, lists and cache under the cache dir), so the machine's apt state is untouched.
#     apt verifies the Release signature against the Debian archive keyring and the .deb against the
#     Packages index; this script additionally records the index's SHA256 and checks the .deb against it
#     on every run. The package is unpacked with dpkg -x.
#
# Environment:
#   MEMWARDEN_VM_CACHE           cache dir (default ${XDG_CACHE_HOME:-$HOME/.cache}/memwarden/vm)
#   MEMWARDEN_VM_DEBIAN_MIRROR   Debian archive URL; default: the machine's own Debian mirror, read from
#                                /etc/apt/sources.list and /etc/apt/sources.list.d/ (the entry for this
#                                machine's release codename)
#   MEMWARDEN_VM_NO_INSTALL=1    never install host packages; fail if they are missing
#
# Exit codes: 0 ok (vmlinuz path on stdout), 1 failure (message on stderr).
set -euo pipefail

# ---- the pin: the one place that names the guest kernel ---------------------------------------------
KERNEL_SUITE=trixie
KERNEL_PIN_PACKAGE=linux-image-6.12.117+deb13-cloud-amd64-unsigned
KERNEL_PIN_VERSION=6.12.117-1
# when the exact pin has left the archive, the newest package whose name matches this is used instead:
KERNEL_FALLBACK_REGEX='^linux-image-6\.12\.[0-9]+\+deb13[^ ]*-cloud-amd64-unsigned$'
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# -------------------------------------------------------------------------------------------------------

log() { echo "fetch-kernel: $*" >&2; }
die() { echo "fetch-kernel: ERROR: $*" >&2; exit 1; }

# ---- 1. host tools ---------------------------------------------------------------------------------
host_tools_present() { command -v qemu-system-x86_64 >/dev/null 2>&1 && [ -x /usr/lib/qemu/virtiofsd ]; }

if ! host_tools_present; then
  [ "${MEMWARDEN_VM_NO_INSTALL:-0}" != 1 ] || die "qemu-system-x86_64 or /usr/lib/qemu/virtiofsd missing and MEMWARDEN_VM_NO_INSTALL=1"
  [ "$(id -u)" -eq 0 ] || die "qemu-system-x86_64 or /usr/lib/qemu/virtiofsd missing; install qemu-system-x86 as root (apt-get install qemu-system-x86)"
  command -v apt-get >/dev/null 2>&1 || die "qemu-system-x86_64 missing and apt-get not available"
  log "installing qemu-system-x86 from the machine's apt sources"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
  host_tools_present || die "qemu-system-x86 installed but qemu-system-x86_64 or /usr/lib/qemu/virtiofsd still missing"
fi

# ---- 2. guest kernel -------------------------------------------------------------------------------
command -v dpkg >/dev/null 2>&1 || die "dpkg is needed to unpack the kernel package"
[ -r "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"

cache=${MEMWARDEN_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memwarden/vm}
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
record=$cache/kernel.env     # what was fetched: PIN, PACKAGE, VERSION, DEB, SHA256, VMLINUZ, VMLINUZ_SHA256

exec 9>"$cache/.lock"
flock 9                      # one fetch at a time per cache dir

# The cached kernel is used when it was fetched for the current pin and still matches its recorded hash.
cached_kernel() {
  [ -r "$record" ] || return 1
  local PIN="" PACKAGE="" VERSION="" DEB="" SHA256="" VMLINUZ="" VMLINUZ_SHA256=""
  # shellcheck disable=SC1090
  . "$record"
  local want="$KERNEL_PIN_PACKAGE=$KERNEL_PIN_VERSION"
  [ "$PIN" = "$want" ] || [ "$PACKAGE=$VERSION" = "$want" ] || return 1
  [ -f "$cache/$DEB" ] && [ -f "$VMLINUZ" ] || return 1
  if ! printf '%s  %s\n' "$SHA256" "$cache/$DEB" "$VMLINUZ_SHA256" "$VMLINUZ" | sha256sum --quiet --strict -c - >/dev/null 2>&1; then
    log "cached $DEB or its unpacked kernel does not match the recorded SHA256; fetching again"
    return 1
  fi
  if [ "$PACKAGE=$VERSION" != "$want" ]; then
    log "note: pinned $want is not in the archive; using $PACKAGE=$VERSION (fetched earlier)"
  fi
  echo "$VMLINUZ"
}

if cached_kernel; then exit 0; fi

. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib/debian-mirror.sh"

mirror=${MEMWARDEN_VM_DEBIAN_MIRROR:-$(machine_mirror || true)}
[ -n "$mirror" ] || die "cannot find the machine's Debian mirror in /etc/apt/sources.list{,.d}; set MEMWARDEN_VM_DEBIAN_MIRROR"
mirror=${mirror%/}

aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
echo "deb [signed-by=$KEYRING] $mirror $KERNEL_SUITE main" >"$aptdir/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$aptdir/sources.list"
  -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$aptdir/lists"
  -o "Dir::Cache=$aptdir/cache"
  -o "APT::Architectures=amd64"
  -o "Acquire::Languages=none"
  -o "APT::Sandbox::User=$(id -un)"
)

log "updating the private $KERNEL_SUITE index from $mirror (machine apt state untouched)"
apt-get "${apt_private[@]}" -qq update >&2 || die "private apt-get update for $KERNEL_SUITE failed"

field() { # $1 package, $2 version, $3 field name: prints the field from the (signature-checked) index
  apt-cache "${apt_private[@]}" show "$1=$2" 2>/dev/null | awk -v f="$3:" '$1 == f { print $2; exit }'
}

package=$KERNEL_PIN_PACKAGE
version=$KERNEL_PIN_VERSION
if [ -z "$(field "$package" "$version" Version)" ]; then
  best_pkg="" best_ver=""
  while read -r p; do
    for v in $(apt-cache "${apt_private[@]}" show "$p" 2>/dev/null | awk '$1 == "Version:" { print $2 }'); do
      if [ -z "$best_ver" ] || dpkg --compare-versions "$v" gt "$best_ver"; then best_pkg=$p; best_ver=$v; fi
    done
  done < <(apt-cache "${apt_private[@]}" pkgnames linux-image-6.12 2>/dev/null | grep -E "$KERNEL_FALLBACK_REGEX" | sort -u)
  [ -n "$best_pkg" ] || die "neither the pin $KERNEL_PIN_PACKAGE=$KERNEL_PIN_VERSION nor any package matching $KERNEL_FALLBACK_REGEX is in $KERNEL_SUITE"
  log "WARNING: pinned $KERNEL_PIN_PACKAGE=$KERNEL_PIN_VERSION is no longer in the archive;"
  log "WARNING: using the newest match, $best_pkg=$best_ver (update the pin in test/vm/fetch-kernel.sh)"
  package=$best_pkg
  version=$best_ver
fi

sha256=$(field "$package" "$version" SHA256)
[[ "$sha256" =~ ^[0-9a-f]{64}$ ]] || die "no SHA256 for $package=$version in the index"

log "downloading $package=$version"
dl=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$dl"' EXIT
(cd "$dl" && apt-get "${apt_private[@]}" -qq download "$package=$version" >&2) || die "apt-get download $package=$version failed"
deb_path=$(find "$dl" -maxdepth 1 -name '*.deb' -print -quit)
[ -n "$deb_path" ] || die "apt-get download produced no .deb"
echo "$sha256  $deb_path" | sha256sum --quiet --strict -c - >&2 || die "$(basename "$deb_path") does not match the SHA256 in the Packages index"
deb=$(basename "$deb_path")

root=$cache/root-$package-$version
rm -rf "$root" "$root.tmp"
dpkg -x "$deb_path" "$root.tmp" || die "dpkg -x $deb failed"
mv "$root.tmp" "$root"
mv -f "$deb_path" "$cache/$deb"
vmlinuz=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $deb"

# remove kernels fetched for earlier pins
for old in "$cache"/root-*; do [ "$old" = "$root" ] || rm -rf "$old"; done
for old in "$cache"/*.deb; do [ "$old" = "$cache/$deb" ] || rm -f "$old"; done

cat >"$record.tmp" <<EOF
PIN='$KERNEL_PIN_PACKAGE=$KERNEL_PIN_VERSION'
PACKAGE='$package'
VERSION='$version'
DEB='$deb'
SHA256='$sha256'
VMLINUZ='$vmlinuz'
VMLINUZ_SHA256='$(sha256sum "$vmlinuz" | cut -d' ' -f1)'
EOF
mv "$record.tmp" "$record"
log "kernel $package=$version ready (sha256 $sha256)"
echo "$vmlinuz"
