#!/usr/bin/env bash
# Installs what the NRI interop tier needs (test/nri/README.md), idempotently:
#  - Debian 12's Go toolchain and Go -dev packages, with apt-get install from the machine's configured sources
#    (sprig + ghodss/yaml are for the Helm chart renderer, test/helm/build.sh);
#  - three Debian 13 (trixie) -dev packages (NRI 0.6.1, ttrpc 1.2.4, cri-api) fetched with a PRIVATE apt
#    configuration into a cache dir and unpacked with dpkg -x. The machine's own apt sources and lists stay untouched.
# After the first run it works offline (everything comes from the cache and the installed packages).
#
# Env: MEMWARDEN_NRI_CACHE   cache dir (default $HOME/.cache/memwarden/nri-interop)
#      MEMWARDEN_DEBIAN_MIRROR  Debian archive URL (default: read from /etc/apt/sources.list[.d])
# Prints, last line: the GOPATH roots of the unpacked trixie packages (also written to $cache/gopath).
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

if [ ${#need_download[@]} -gt 0 ]; then
  url=$(mirror) || { log "cannot find the Debian archive URL in /etc/apt (set MEMWARDEN_DEBIAN_MIRROR)"; exit 1; }
  log "fetching Debian 13 packages ${need_download[*]} (private apt config, archive from /etc/apt)"
  apt=$cache/apt
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$cache/debs"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $url trixie main" >"$apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update >&2
  for spec in "${need_download[@]}"; do
    name=${spec%%=*}; want=${spec#*=}
    ver=$(apt-cache "${opts[@]}" show "$name" | awk '/^Version:/ {print $2}' | grep -E "^${want//./\\.}" | sort -V | tail -1)
    [ -n "$ver" ] || { log "trixie has no $name matching version '$want'"; exit 1; }
    (cd "$cache/debs" && apt-get "${opts[@]}" download "$name=$ver" >&2)
    roots+=("$cache/root/$name")
  done
fi

gopath_roots=()
for spec in "${trixie_pkgs[@]}"; do
  name=${spec%%=*}; want=${spec#*=}
  root=$cache/root/$name
  deb=$(ls "$cache"/debs/"${name}"_"${want}"*_all.deb | sort -V | tail -1)
  ver=$(dpkg-deb -f "$deb" Version)
  if ! { [ -f "$root/.unpacked" ] && [ "$(cat "$root/.unpacked")" = "$ver" ]; }; then
    rm -rf "$root"; mkdir -p "$root"
    dpkg -x "$deb" "$root/deb"
    # a GOPATH root is a directory with src/<import path>
    ln -s deb/usr/share/gocode/src "$root/src"
    echo "$ver" >"$root/.unpacked"
    log "unpacked $name $ver"
  fi
  gopath_roots+=("$root")
done

(IFS=:; echo "${gopath_roots[*]}") >"$cache/gopath"
log "ready: $(go version 2>/dev/null || echo 'go missing?'); trixie roots in $cache/root"
cat "$cache/gopath"
