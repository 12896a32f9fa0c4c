#!/usr/bin/env bash
# Builds the NRI interop harness, the test plugin and the e2e CRI client (GOPATH mode, offline) into $MEMWARDEN_NRI_CACHE/bin
# (default $HOME/.cache/memwarden/nri-interop/bin; MEMWARDEN_NRI_BIN=DIR builds into DIR instead). Run
# test/nri/setup.sh first. Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${MEMWARDEN_NRI_CACHE:-$HOME/.cache/memwarden/nri-interop}
[ -f "$cache/gopath" ] || { echo "nri-build: run test/nri/setup.sh first ($cache/gopath missing)" >&2; exit 1; }
work=$cache/gowork
bin=${MEMWARDEN_NRI_BIN:-$cache/bin}
mkdir -p "$work/src" "$bin" "$cache/gocache"
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GOCACHE=$cache/gocache
export GOPATH=$work:$(cat "$cache/gopath"):/usr/share/gocode
cd "$here"
for cmd in harness testplugin fakewarden criclient; do
  go build -o "$bin/nri-$cmd" "./$cmd"
done
(cd "$bin" && pwd)
