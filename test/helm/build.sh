#!/usr/bin/env bash
# Builds the test-only Helm chart renderer (test/helm/render; test/helm/README.md) in GOPATH mode, offline, into
# $MEMWARDEN_HELM_CACHE/bin (default $HOME/.cache/memwarden/helm/bin). Its Go packages (Debian 12's golang-go,
# golang-github-masterminds-sprig-dev, golang-github-ghodss-yaml-dev) are installed by test/nri/setup.sh.
# Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cache=${MEMWARDEN_HELM_CACHE:-$HOME/.cache/memwarden/helm}
for d in /usr/share/gocode/src/github.com/Masterminds/sprig /usr/share/gocode/src/github.com/ghodss/yaml; do
  [ -d "$d" ] || { echo "helm-build: $d missing: run test/nri/setup.sh first" >&2; exit 1; }
done
command -v go >/dev/null || { echo "helm-build: go missing: run test/nri/setup.sh first" >&2; exit 1; }
mkdir -p "$cache/bin" "$cache/gocache" "$cache/gowork/src"
export GO111MODULE=off GOPROXY=off GOFLAGS= GOTOOLCHAIN=local GOCACHE=$cache/gocache
export GOPATH=$cache/gowork:/usr/share/gocode
cd "$here"
go vet ./render
go build -o "$cache/bin/helm-render" ./render
echo "$cache/bin"
