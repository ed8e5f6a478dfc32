#!/usr/bin/env bash
# `warroom pull --workspace` against `warroom pull` (Graph), in the same run
# against one throttled emulator: the same sign-ins, through the Log
# Analytics query API (200 requests / 30 s, 500,000 rows or 64 MB a result)
# and through Graph's reports API (5 requests / 10 s x 1,000 rows = a
# ceiling of 500 rows/s).
# Usage: cargo build --release && benches/pull-workspace.sh [SIGNINS]   (default 120000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-120000}
bin=$PWD/target/release/warroom
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
"$bin" emulator --signins "$n" --seed 3 > "$work/emu" 2>/dev/null &
for _ in $(seq 1 100); do [ "$(wc -l < "$work/emu")" -ge 2 ] && break; sleep 0.1; done
url=$(sed -n '1s/^listening on //p' "$work/emu")
creds=$(sed -n 2p "$work/emu")
field() { echo "$creds" | sed -n "s/.*$1=\([^ ]*\).*/\1/p"; }
export WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url WARROOM_TENANT=$(field tenant) \
  WARROOM_CLIENT_ID=$(field client_id) WARROOM_CLIENT_SECRET=$(field client_secret)
ws=$(field workspace)
streams=interactive,noninteractive,serviceprincipal,managedidentity
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//'); $n sign-ins"
measure() { # label, pull args...
  local label=$1; shift
  rm -f "$work/out.ndjson"
  local s e rows
  s=$(date +%s.%N)
  "$bin" pull --since 90d --streams "$streams" --out "$work/out.ndjson" "$@" 2> "$work/err" < /dev/null
  e=$(date +%s.%N)
  rows=$(wc -l < "$work/out.ndjson")
  python3 - "$label" "$rows" "$s" "$e" <<'PY'
import sys
label, rows, s, e = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rate = rows / (e - s)
print(f"{label:<34} {rows:>8} rows in {e - s:7.1f} s = {rate:8.0f} rows/s = {rate / 500:6.1f}x the Graph reports ceiling")
PY
}
# The emulator lays its tables out on the first query (a real workspace
# holds them already): one small query first, outside the measurement.
"$bin" pull --since 1m --streams interactive --workspace "$ws" --out "$work/warm.ndjson" 2>/dev/null </dev/null
measure "pull --workspace (Log Analytics)" --workspace "$ws"
measure "pull (Graph reports API)"
