#!/usr/bin/env bash
# `warroom scan` (every detection) against jq and a Python json.loads loop
# each doing only the MFA-by-claim filter, on the same sign-in NDJSON from
# the emulator, in one run; one thread and all cores; peak memory.
# Usage: cargo build --release && benches/scan.sh [SIGNINS | FILE]
#   SIGNINS: how many sign-ins to generate (default 120000);
#   FILE: an NDJSON export of sign-ins already at hand, measured as it is.
#   BEFORE=/path/to/an/older/warroom: time that build too, in the same run
#   (a change that must not slow the scan).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-120000}
bin=$PWD/target/release/warroom
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
if [ -f "$n" ]; then
  file=$(realpath "$n")
else
  file=$work/s.ndjson
  "$bin" emulator --scenario golden-saml --signins "$n" --seed 5 --no-throttle > "$work/emu" 2>/dev/null &
  for _ in $(seq 1 100); do [ "$(wc -l < "$work/emu")" -ge 2 ] && break; sleep 0.1; done
  url=$(sed -n '1s/^listening on //p' "$work/emu"); creds=$(sed -n 2p "$work/emu")
  export WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url
  export WARROOM_TENANT=$(echo "$creds" | sed 's/.*tenant=\([^ ]*\).*/\1/') WARROOM_CLIENT_ID=$(echo "$creds" | sed 's/.*client_id=\([^ ]*\).*/\1/') WARROOM_CLIENT_SECRET=$(echo "$creds" | sed 's/.*client_secret=\([^ ]*\).*/\1/')
  "$bin" pull --since 90d --streams interactive,noninteractive,serviceprincipal,managedidentity --out "$file" 2>/dev/null </dev/null
  kill %1 2>/dev/null || true
fi
size=$(stat -c %s "$file")
cat > "$work/py.py" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    e = json.loads(line)
    if (e.get("status") or {}).get("additionalDetails") == "MFA requirement satisfied by claim in the token": n += 1
print(n)
PY
best() { # best of 3, in ms
  local b=999999999
  for _ in 1 2 3; do local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; local e=$(( ($(date +%s%N) - s) / 1000000 )); [ $e -lt $b ] && b=$e; done
  echo $b
}
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "file: $(wc -l < "$file") sign-ins, $((size / 1000000)) MB"
"$bin" scan "$file" --format json >/dev/null 2>&1
jq_ms=$(best jq -c 'select(.status.additionalDetails == "MFA requirement satisfied by claim in the token")' "$file")
py_ms=$(best python3 "$work/py.py" "$file")
one_ms=$(best "$bin" scan "$file" --format json --threads 1)
# `--threads 1` still reads and collects on their own threads: pinned to
# one core, nothing runs beside the worker.
if command -v taskset >/dev/null; then
  core_ms=$(best taskset -c 0 "$bin" scan "$file" --format json --threads 1)
else
  core_ms=$one_ms
fi
all_ms=$(best "$bin" scan "$file" --format json)
/usr/bin/time -f "%M" -o "$work/mem" "$bin" scan "$file" --format json >/dev/null 2>&1
mem=$(tail -n 1 "$work/mem")
/usr/bin/time -f "%M" -o "$work/mem1" "$bin" scan "$file" --format json --threads 1 >/dev/null 2>&1
mem1=$(tail -n 1 "$work/mem1")
# With SigmaHQ's rules (every record is then parsed whole) and an indicator list.
sigma_dir=$PWD/../shared/data/sigma
lines=$(wc -l < "$file")
printf 'value,type\n203.0.113.66,ip\n203.0.113.128/25,cidr\ncontoso-auth.com,domain\npython-requests,user-agent\n' > "$work/iocs.csv"
ioc_ms=$(best "$bin" scan "$file" --format json --ioc "$work/iocs.csv")
if [ -d "$sigma_dir" ]; then
  sigma_one=$(best "$bin" scan "$file" --format json --threads 1 --sigma "$sigma_dir")
  sigma_all=$(best "$bin" scan "$file" --format json --sigma "$sigma_dir")
  sigma_rules=$("$bin" scan "$file" --format json --sigma "$sigma_dir" 2>&1 >/dev/null | sed -n 's/.*--sigma \([0-9]*\) rules loaded.*/\1/p')
  echo "with $sigma_rules Sigma rules: 1 thread ${sigma_one} ms ($((lines * 1000 / sigma_one)) events/s), all cores ${sigma_all} ms ($((lines * 1000 / sigma_all)) events/s)"
fi
echo "with a 4-indicator list (CIDR: every line parsed): all cores ${ioc_ms} ms ($((lines * 1000 / ioc_ms)) events/s)"
if [ -n "${BEFORE:-}" ]; then
  before_core=$(best taskset -c 0 "$BEFORE" scan "$file" --format json --threads 1)
  before_all=$(best "$BEFORE" scan "$file" --format json)
  core_again=$(best taskset -c 0 "$bin" scan "$file" --format json --threads 1)
  all_again=$(best "$bin" scan "$file" --format json)
  echo "before ($BEFORE): one core ${before_core} ms, all cores ${before_all} ms; this build again: one core ${core_again} ms, all cores ${all_again} ms"
fi
python3 - "$size" "$jq_ms" "$py_ms" "$one_ms" "$all_ms" "$mem" "$core_ms" "$mem1" "$lines" <<'PY'
import sys
size, jq, py, one, allc, mem, core, mem1, lines = (float(x) for x in sys.argv[1:])
mb = size / 1e6
for name, ms in [("jq, one filter", jq), ("python json.loads, one filter", py), ("warroom scan, every detection, 1 thread", one), ("warroom scan, every detection, one core", core), ("warroom scan, every detection, all cores", allc)]:
    print(f"{name:<42} {ms:7.0f} ms  {mb / (ms / 1000):6.0f} MB/s  {lines / (ms / 1000):9.0f} events/s")
print(f"warroom vs jq: {jq/core:.1f}x (one core), {jq/one:.1f}x (1 thread), {jq/allc:.1f}x (all cores); vs python: {py/core:.1f}x, {py/one:.1f}x, {py/allc:.1f}x")
print(f"warroom peak memory: {mem1/1024:.0f} MiB (1 thread), {mem/1024:.0f} MiB (all cores)")
PY
