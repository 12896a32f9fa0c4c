#!/usr/bin/env bash
# Builds the NRI interop harness, the test plugin and the e2e CRI client (GOPATH mode, offline) into $MEMWARDEN_NRI_CACHE/bin
# (default $HOME/.cache/memwarden/nri-interop/bin; MEMWARDEN_NRI_BIN=DIR builds into DIR instead), and the same
# harness source against NRI 0.8.0 (Debian sid packages, build tag nri08; trixie's gRPC and Go 1.24, see setup.sh)
# as nri-harness08. Run test/nri/setup.sh first. Prints the bin directory.
#   build.sh [NAME...]   only these (harness testplugin fakewarden criclient harness08); default: all
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${MEMWARDEN_NRI_CACHE:-$HOME/.cache/memwarden/nri-interop}
[ -f "$cache/gopath" ] || { echo "nri-build: run test/nri/setup.sh first ($cache/gopath missing)" >&2; exit 1; }
[ -f "$cache/gopath08" ] && [ -f "$cache/goroot08" ] ||
  { echo "nri-build: run test/nri/setup.sh first ($cache/gopath08 or goroot08 missing)" >&2; exit 1; }
work=$cache/gowork
bin=${MEMWARDEN_NRI_BIN:-$cache/bin}
mkdir -p "$work/src" "$bin" "$cache/gocache"
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GOCACHE=$cache/gocache
cd "$here"
want=" ${*:-harness testplugin fakewarden criclient harness08} "
export GOPATH=$work:$(cat "$cache/gopath"):/usr/share/gocode
for cmd in harness testplugin fakewarden criclient; do
  [[ "$want" == *" $cmd "* ]] || continue
  go build -o "$bin/nri-$cmd" "./$cmd"
done
# NRI 0.8.0 with trixie's Go 1.24: the first GOPATH root holding a package wins, so sid's nri/ttrpc and trixie's
# grpc/protobuf shadow trixie's NRI 0.6.1 and Debian 12's packages
goroot=$(cat "$cache/goroot08")
if [[ "$want" == *" harness08 "* ]]; then
  GOROOT=$goroot GOPATH=$work:$(cat "$cache/gopath08"):/usr/share/gocode \
    "$goroot/bin/go" build -tags nri08 -ldflags "-X main.nriVersion=v0.8.0" -o "$bin/nri-harness08" ./harness
fi
(cd "$bin" && pwd)
