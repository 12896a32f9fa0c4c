#!/usr/bin/env bash
# Installs what the NRI interop tier needs (test/nri/README.md), idempotently:
#  - Debian 12's Go toolchain and Go -dev packages, with apt-get install from the machine's configured sources
#    (sprig + ghodss/yaml are for the Helm chart renderer, test/helm/build.sh);
#  - three Debian 13 (trixie) -dev packages (NRI 0.6.1, ttrpc 1.2.4, cri-api) and three Debian sid ones (NRI 0.8.0,
#    ttrpc 1.2.7, containerd/log 0.1.0: for nri-harness08) fetched with a PRIVATE apt configuration per suite into
#    a cache dir and unpacked with dpkg -x. The machine's own apt sources and lists stay untouched.
# After the first run it works offline (everything comes from the cache and the installed packages).
#
# Env: MEMWARDEN_NRI_CACHE   cache dir (default $HOME/.cache/memwarden/nri-interop)
#      MEMWARDEN_DEBIAN_MIRROR  Debian archive URL (default: read from /etc/apt/sources.list[.d])
# Prints, last line: the GOPATH roots of the unpacked trixie packages (also written to $cache/gopath); the NRI 0.8.0
# build's roots are written to $cache/gopath08.
set -euo pipefail

cache=${MEMWARDEN_NRI_CACHE:-$HOME/.cache/memwarden/nri-interop}
mkdir -p "$cache"
log() { echo "nri-setup: $*" >&2; }

# --- Debian 12 packages ------------------------------------------------------------------------------------------
bookworm_pkgs=(
  golang-go golang-google-protobuf-dev golang-github-golang-protobuf-1-3-dev golang-google-grpc-dev
  golang-google-genproto-dev golang-github-gogo-protobuf-dev golang-golang-x-net-dev golang-golang-x-text-dev
  golang-golang-x-sys-dev golang-github-opencontainers-specs-dev golang-github-sirupsen-logrus-dev
  golang-github-masterminds-sprig-dev golang-github-ghodss-yaml-dev
)
missing=()
for p in "${bookworm_pkgs[@]}"; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { log "need root to apt-get install: ${missing[*]}"; exit 1; }
  log "installing Debian 12 packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    log "apt-get install failed; running apt-get update and retrying"
    apt-get update >&2
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
fi

# --- Debian 13 packages via a private apt configuration ----------------------------------------------------------
# name=version prefix that must match (NRI and ttrpc pinned to what the reference was verified with)
trixie_pkgs=(golang-github-containerd-nri-dev=0.6.1 golang-github-containerd-ttrpc-dev=1.2.4
             golang-github-kubernetes-cri-api-dev=)
roots=()
need_download=()
for spec in "${trixie_pkgs[@]}"; do
  name=${spec%%=*}; want=${spec#*=}
  root=$cache/root/$name
  if [ -f "$root/.unpacked" ] && [[ "$(cat "$root/.unpacked")" == "$want"* ]]; then
    roots+=("$root"); continue
  fi
  deb=$(ls "$cache"/debs/"${name}"_"${want}"*_all.deb 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$deb" ]; then need_download+=("$spec"); else roots+=("$root"); fi
done

mirror() {
  if [ -n "${MEMWARDEN_DEBIAN_MIRROR:-}" ]; then echo "$MEMWARDEN_DEBIAN_MIRROR"; return; fi
  local f u
  # one-line format: "deb [opts] URL bookworm main"
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    u=$(awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//) { if ($(i+1) ~ /^bookworm$/) { print $i; exit } } }' "$f")
    [ -n "$u" ] && { echo "$u"; return; }
  done
  # deb822 format: a stanza whose Suites include bookworm
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    u=$(awk 'BEGIN{RS=""; FS="\n"} { uri=""; ok=0; for (i=1;i<=NF;i++) { if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/, "", $i); split($i, a, " "); uri=a[1] } if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok=1 } if (ok && uri != "") { print uri; exit } }' "$f")
    [ -n "$u" ] && { echo "$u"; return; }
  done
  return 1
}

# fetch_suite SUITE TAG SPEC...: each SPEC "name=version-prefix[@group]" (the prefix must match the version without
# its epoch) is downloaded from SUITE with a private apt configuration ($cache/apt[-TAG]) into $cache/debs[-TAG] and
# unpacked with dpkg -x into $cache/root[-TAG]/<group or name> (the packages of one group into one tree); sets
# gopath_roots to the roots, in SPEC order, one per group.
# the newest .deb of $2 matching version prefix $3 in directory $1 (apt-get download writes an epoch N: as N%3a)
find_deb() {
  ls "$1/$2_$3"*.deb "$1/$2_"[0-9]%3a"$3"*.deb 2>/dev/null | sort -V | tail -1 || true
}

fetch_suite() {
  local suite=$1 tag=$2; shift 2
  local sfx=${tag:+-$tag} spec name want group root deb ver url
  local apt=$cache/apt$sfx debs=$cache/debs$sfx roots_dir=$cache/root$sfx
  local need_download=()
  for spec in "$@"; do
    name=${spec%%=*}; want=${spec#*=}; want=${want%@*}
    deb=$(find_deb "$debs" "$name" "$want")
    [ -n "$deb" ] || need_download+=("$spec")
  done
  if [ ${#need_download[@]} -gt 0 ]; then
    url=$(mirror) || { log "cannot find the Debian archive URL in /etc/apt (set MEMWARDEN_DEBIAN_MIRROR)"; exit 1; }
    log "fetching Debian $suite packages ${need_download[*]} (private apt config, archive from /etc/apt)"
    mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$debs"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $url $suite main" >"$apt/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1
          -o APT::Sandbox::User=root)
    apt-get "${opts[@]}" update >&2
    for spec in "${need_download[@]}"; do
      name=${spec%%=*}; want=${spec#*=}; want=${want%@*}
      ver=$(apt-cache "${opts[@]}" show "$name" | awk '/^Version:/ {print $2}' \
            | awk -v w="$want" '{ v = $0; sub(/^[0-9]+:/, "", v) } index(v, w) == 1' | sort -V | tail -1)
      [ -n "$ver" ] || { log "Debian $suite has no $name matching version '$want'"; exit 1; }
      (cd "$debs" && apt-get "${opts[@]}" download "$name=$ver" >&2)
    done
  fi
  # unpack: one tree per group; its .unpacked lists the versions unpacked into it
  local -A members=() versions=()
  local groups=()
  for spec in "$@"; do
    name=${spec%%=*}; want=${spec#*=}; group=$name
    [[ "$want" == *@* ]] && group=${want#*@}
    want=${want%@*}
    deb=$(find_deb "$debs" "$name" "$want")
    [ -n "$deb" ] || { log "no $name $want in $debs"; exit 1; }
    [ -n "${members[$group]:-}" ] || groups+=("$group")
    members[$group]+="$deb "
    versions[$group]+="${versions[$group]:+ }$(dpkg-deb -f "$deb" Version)"
  done
  gopath_roots=()
  for group in "${groups[@]}"; do
    root=$roots_dir/$group
    if ! { [ -f "$root/.unpacked" ] && [ "$(cat "$root/.unpacked")" = "${versions[$group]}" ]; }; then
      rm -rf "$root"; mkdir -p "$root"
      for deb in ${members[$group]}; do dpkg -x "$deb" "$root/deb"; done
      # a GOPATH root is a directory with src/<import path>
      ln -s deb/usr/share/gocode/src "$root/src"
      echo "${versions[$group]}" >"$root/.unpacked"
      log "unpacked $group ${versions[$group]}"
    fi
    gopath_roots+=("$root")
  done
}

# --- Debian 13 (trixie): NRI 0.6.1 and what it needs; the NRI 0.8.0 build's newer Go and gRPC ------------------
# name=version prefix that must match (NRI and ttrpc pinned to what the reference was verified with). NRI 0.8.0 splits
# a sync only when grpc's status.Code sees through ttrpc's wrapped OversizedMessageErr (grpc >= 1.55; Debian 12's 1.33
# does not, and the sync then fails): trixie's grpc 1.64 needs protobuf >= 1.32, which needs Go >= 1.20 -> Go 1.24.
fetch_suite trixie "" golang-github-containerd-nri-dev=0.6.1 golang-github-containerd-ttrpc-dev=1.2.4 \
  golang-github-kubernetes-cri-api-dev= \
  golang-google-grpc-dev=1.64.0@nri08-trixie golang-google-protobuf-dev=1.36.5@nri08-trixie \
  golang-google-genproto-dev=0.0~git20210726@nri08-trixie golang-golang-x-net-dev=0.27.0@nri08-trixie \
  golang-github-golang-protobuf-1-5-dev=1.5.4@nri08-trixie \
  golang-1.24-go=1.24.4@go-1.24 golang-1.24-src=1.24.4@go-1.24
trixie_roots=("${gopath_roots[@]:0:3}")
trixie08_root=${gopath_roots[3]}
echo "${gopath_roots[4]}/deb/usr/lib/go-1.24" >"$cache/goroot08"

# --- Debian sid: NRI 0.8.0 (containerd 1.7.26+ and 2.0-2.1) for nri-harness08 -------------------------------------
# NRI 0.8.0 needs ttrpc >= 1.2.6 (OversizedMessageErr) and containerd/log
fetch_suite sid sid golang-github-containerd-nri-dev=0.8.0 golang-github-containerd-ttrpc-dev=1.2.7 \
  golang-github-containerd-log-dev=0.1.0
(IFS=:; echo "${gopath_roots[*]}:$trixie08_root:${trixie_roots[2]}") >"$cache/gopath08"
gopath_roots=("${trixie_roots[@]}")
"$(cat "$cache/goroot08")/bin/go" version >/dev/null || { log "Go 1.24 from trixie does not run here"; exit 1; }

(IFS=:; echo "${gopath_roots[*]}") >"$cache/gopath"
log "ready: $(go version 2>/dev/null || echo 'go missing?') (NRI 0.8.0 build: $("$(cat "$cache/goroot08")/bin/go" version)); trixie roots in $cache/root, sid roots in $cache/root-sid"
cat "$cache/gopath"
