#!/usr/bin/env bash
# Fetches what the NRI end-to-end check (test/vm/guest/containerd-e2e.sh) runs inside the vm tier's guest:
#   fetch-containerd.sh [--line 1.7|2.1]
# line 1.7 (default): Debian 13 (trixie) packages containerd (1.7.24, NRI v0.6.1, ships ctr) and busybox-static;
# line 2.1: Debian sid's containerd 2.1.x (NRI v0.8.0: split sync, oom_score_adj adjustment; its binaries are
# linked against libc only and run on Debian 12) and busybox-static; each line in its own cache subdir. Both take
# runc from the machine's own release (trixie's and sid's runc need glibc 2.38; the guest's userland is this
# host's), through a PRIVATE apt
# configuration (own sources.list, lists and cache under the cache dir; the machine's apt state is untouched),
# unpacked with dpkg -x. apt verifies the InRelease signature and each .deb against the Packages index; this
# script records each index SHA256 in containerd.env and checks the cached .debs against it on every run, so a
# warm run does no network access. Nothing is installed system-wide.
#
# Prints the unpacked root (holding usr/bin/containerd, usr/bin/ctr, usr/sbin/runc, usr/bin/busybox) on stdout.
# Environment: MEMWARDEN_VM_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/memwarden/vm; the tree goes to
# <cache>/containerd, for line 2.1 <cache>/containerd-2.1), MEMWARDEN_VM_DEBIAN_MIRROR (default: the machine's own
# mirror from /etc/apt).
set -euo pipefail

log() { echo "fetch-containerd: $*" >&2; }
die() { echo "fetch-containerd: ERROR: $*" >&2; exit 1; }

line=1.7
while [ $# -gt 0 ]; do
  case "$1" in
    --line) [ $# -ge 2 ] || die "--line needs a value (1.7 or 2.1)"; line=$2; shift 2 ;;
    *) die "unknown argument '$1' (usage: fetch-containerd.sh [--line 1.7|2.1])" ;;
  esac
done
# package=version-prefix. runc: the newest version whose binary runs on this host's glibc (Debian 12: 1.1.5)
case "$line" in
  # containerd pinned to 1.7.24 (NRI v0.6.1, the version the interop tier checks)
  1.7) SUITE=trixie; SUBDIR=containerd; PINS=(containerd=1.7.24 runc=1.1.5 busybox-static=) ;;
  # containerd 2.1.x (NRI v0.8.0; nri-protocol.md §5: containerd 2.0.0-2.1.6 ship v0.8.0, and so does sid's 2.1.9)
  2.1) SUITE=sid; SUBDIR=containerd-2.1; PINS=(containerd=2.1. runc=1.1.5 busybox-static=) ;;
  *) die "unknown --line '$line' (known: 1.7, 2.1)" ;;
esac
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

command -v dpkg >/dev/null 2>&1 || die "dpkg is needed"
[ -r "$KEYRING" ] || die "$KEYRING missing (package debian-archive-keyring)"
cache=${MEMWARDEN_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/memwarden/vm}
cache=$(mkdir -p "$cache/$SUBDIR" && cd "$cache/$SUBDIR" && pwd)
record=$cache/containerd.env   # lines: package version deb sha256
root=$cache/root

exec 9>"$cache/.lock"
flock 9

cached() {
  [ -r "$record" ] && [ -f "$root/.complete" ] || return 1
  local p v d s spec name want
  for spec in "${PINS[@]}"; do
    name=${spec%%=*}; want=${spec#*=}
    grep -q "^$name ${want//./\\.}" "$record" || return 1
  done
  while read -r p v d s; do
    echo "$s  $cache/$d" | sha256sum --quiet --strict -c - >/dev/null 2>&1 || { log "cached $d does not match its recorded SHA256"; return 1; }
  done <"$record"
  [ "$(cat "$root/.complete")" = "$(sha256sum "$record" | cut -d' ' -f1)" ]
}
if cached; then echo "$root"; exit 0; fi

. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib/debian-mirror.sh"
mirror=${MEMWARDEN_VM_DEBIAN_MIRROR:-$(machine_mirror || true)}
[ -n "$mirror" ] || die "cannot find the machine's Debian mirror in /etc/apt/sources.list{,.d}; set MEMWARDEN_VM_DEBIAN_MIRROR"
mirror=${mirror%/}

aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
{ echo "deb [signed-by=$KEYRING] $mirror $SUITE main"
  [ -z "$codename" ] || [ "$codename" = "$SUITE" ] || echo "deb [signed-by=$KEYRING] $mirror $codename main"
} >"$aptdir/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$aptdir/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
  -o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
  -o "APT::Architectures=amd64" -o "Acquire::Languages=none" -o "APT::Sandbox::User=$(id -un)"
)
log "updating the private $SUITE${codename:+ + $codename} index (machine apt state untouched)"
apt-get "${apt_private[@]}" -qq update >&2 || die "private apt-get update failed"

dl=$(mktemp -d "$cache/.download.XXXXXX")
trap 'rm -rf "$dl"' EXIT
: >"$dl/record"
for spec in "${PINS[@]}"; do
  name=${spec%%=*}; want=${spec#*=}
  ver=$(apt-cache "${apt_private[@]}" show "$name" 2>/dev/null | awk '$1 == "Version:" { print $2 }' \
        | grep -E "^${want//./\\.}" | sort -V | tail -n 1 || true)
  [ -n "$ver" ] || die "$SUITE has no $name matching version '$want'"
  sha=$(apt-cache "${apt_private[@]}" show "$name=$ver" | awk '$1 == "SHA256:" { print $2; exit }')
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "no SHA256 for $name=$ver in the index"
  log "downloading $name=$ver"
  (cd "$dl" && apt-get "${apt_private[@]}" -qq download "$name=$ver" >&2) || die "apt-get download $name=$ver failed"
  deb=$(cd "$dl" && ls "${name}"_*.deb | head -n 1)
  echo "$sha  $dl/$deb" | sha256sum --quiet --strict -c - >&2 || die "$deb does not match the SHA256 in the index"
  echo "$name $ver $deb $sha" >>"$dl/record"
done

rm -rf "$root" "$root.tmp"
mkdir "$root.tmp"
for deb in "$dl"/*.deb; do dpkg -x "$deb" "$root.tmp" || die "dpkg -x $(basename "$deb") failed"; done
for f in usr/bin/containerd usr/bin/ctr usr/bin/containerd-shim-runc-v2 usr/sbin/runc usr/bin/busybox; do
  [ -x "$root.tmp/$f" ] || die "$f missing in the unpacked packages"
done
"$root.tmp/usr/sbin/runc" --version >/dev/null || die "the unpacked runc does not run on this host"
"$root.tmp/usr/bin/containerd" --version >/dev/null || die "the unpacked containerd does not run on this host"
rm -f "$cache"/*.deb
mv "$dl"/*.deb "$cache/"
mv "$dl/record" "$record"
sha256sum "$record" | cut -d' ' -f1 >"$root.tmp/.complete"
mv "$root.tmp" "$root"
log "ready: $(awk '{ printf "%s=%s ", $1, $2 }' "$record")"
echo "$root"
