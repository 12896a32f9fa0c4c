#!/usr/bin/env bash
# Validates the NRI interop harness without memwarden: the real NRI v0.6.1 runtime adaptation (harness) against
# a tiny plugin built on NRI's own pkg/stub (testplugin), over a real unix socket. Compares the harness output
# (timings and timestamps removed) with testplugin/expected.jsonl, then times 2000 CreateContainer calls.
#   test/nri/selftest.sh [--update]     (--update rewrites expected.jsonl; review the diff)
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
"$here/setup.sh" >/dev/null
bin=$("$here/build.sh")
tmp=$(mktemp -d /tmp/memwarden-nri-selftest.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

harness=nri-harness
run() { # $1 = harness args ... ; output in $tmp/out
  "$bin/$harness" -socket "$tmp/nri.sock" -wait 10s "$@" >"$tmp/out" 2>"$tmp/harness.log" &
  local h=$!; pids+=("$h")
  for _ in $(seq 100); do [ -S "$tmp/nri.sock" ] && break; sleep 0.05; done
  "$bin/nri-testplugin" -socket "$tmp/nri.sock" -idx 10 -reconnect 2>"$tmp/plugin.log" &
  local p=$!; pids+=("$p")
  if ! wait "$h"; then
    echo "selftest: harness failed:" >&2; tail -20 "$tmp/harness.log" >&2; exit 1
  fi
  kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true
}

run "$here/testplugin/scenario.json"
sed -E 's/"ms":[0-9.]+,//g; s/"registered_unix_ms":[0-9.e+]+,//; s/"socket":"[^"]*"/"socket":"SOCKET"/' "$tmp/out" >"$tmp/got.jsonl"
if [ "${1:-}" = --update ]; then
  cp "$tmp/got.jsonl" "$here/testplugin/expected.jsonl"; echo "selftest: expected.jsonl updated"; exit 0
fi
if ! diff -u "$here/testplugin/expected.jsonl" "$tmp/got.jsonl"; then
  echo "selftest: FAILED (harness output differs from testplugin/expected.jsonl)" >&2; exit 1
fi
echo "selftest: scenario output matches ($(wc -l <"$tmp/got.jsonl") lines)"
# the same scenario through NRI 0.8.0's runtime (nri-harness08), the plugin still on NRI 0.6.1's stub: identical
# results, the version in the first line aside
rm -f "$tmp/nri.sock"
harness=nri-harness08 run "$here/testplugin/scenario.json"
sed -E 's/"ms":[0-9.]+,//g; s/"registered_unix_ms":[0-9.e+]+,//; s/"socket":"[^"]*"/"socket":"SOCKET"/; 1s/"nri":"v0.8.0"/"nri":"v0.6.1"/' \
  "$tmp/out" >"$tmp/got08.jsonl"
if ! diff -u "$here/testplugin/expected.jsonl" "$tmp/got08.jsonl"; then
  echo "selftest: FAILED (nri-harness08's output differs from testplugin/expected.jsonl)" >&2; exit 1
fi
echo "selftest: NRI 0.8.0 scenario output matches too"
rm -f "$tmp/nri.sock"
run -bench 2000 -warmup 200 /dev/null
echo "selftest: $(tail -1 "$tmp/out")"
