#!/usr/bin/env bash
# `warroom pull` against the throttled emulator: rows per second as a share
# of the ceiling the reports budget allows (5 requests / 10 s x 1,000 rows =
# 500 rows/s), and 429s drawn; then the same with 10 % injected 503s.
# Usage: cargo build --release && benches/pull.sh [SIGNINS]   (default 200000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
bin=$PWD/target/release/warroom
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
run() { # label, extra emulator args...
  local label=$1; shift
  "$bin" emulator --signins "$n" --seed 3 "$@" > "$work/emu" 2>/dev/null &
  local pid=$!
  for _ in $(seq 1 100); do [ "$(wc -l < "$work/emu")" -ge 2 ] && break; sleep 0.1; done
  local url; url=$(sed -n '1s/^listening on //p' "$work/emu")
  local creds; creds=$(sed -n 2p "$work/emu")
  export WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url
  export WARROOM_TENANT=$(echo "$creds" | sed 's/.*tenant=\([^ ]*\).*/\1/') WARROOM_CLIENT_ID=$(echo "$creds" | sed 's/.*client_id=\([^ ]*\).*/\1/') WARROOM_CLIENT_SECRET=$(echo "$creds" | sed 's/.*client_secret=\([^ ]*\).*/\1/')
  rm -f "$work/out.ndjson"
  local s; s=$(date +%s.%N)
  "$bin" pull --since 90d --streams interactive,noninteractive,serviceprincipal,managedidentity --out "$work/out.ndjson" 2> "$work/err" < /dev/null
  local e; e=$(date +%s.%N)
  kill $pid; wait $pid 2>/dev/null || true
  local rows; rows=$(wc -l < "$work/out.ndjson")
  python3 - "$label" "$rows" "$s" "$e" "$(tail -n 1 "$work/err")" <<'PY'
import re, sys
label, rows, s, e, summary = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
rate = rows / (e - s)
throttled = re.search(r"(\d+) throttled", summary)
print(f"{label:<28} {rows} rows in {e - s:.1f} s = {rate:.0f} rows/s = {rate / 500:.2f} of the ceiling; 429s: {throttled.group(1) if throttled else '?'}")
PY
}
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
run "throttled emulator"
run "throttled + 10% 503" --faults 503:0.1
