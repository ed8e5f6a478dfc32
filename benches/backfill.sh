#!/usr/bin/env bash
# The history a console fetches into a case: 30 days of the emulator's
# default tenant (100,000 sign-ins, throttled as Graph is), through the real
# console in tmux. Prints how much of the reports budget (5 requests per
# 10 s, what bounds a backfill) the history used, and how long drawing and
# applying messages took meanwhile (p50/p99: the screen stays responsive).
# In the same run, `pull` of the same window (the alternative: pull, then
# scan) for its time and budget use.
# Usage: cargo build --release && benches/backfill.sh [SIGNINS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
bin=$PWD/target/release/warroom
work=$(mktemp -d)
sock=backfill-$$
trap 'tmux -L $sock kill-server 2>/dev/null; kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
"$bin" emulator --scenario golden-saml --signins "$n" --seed 5 > "$work/emu" 2>/dev/null &
for _ in $(seq 1 300); do [ "$(wc -l < "$work/emu")" -ge 2 ] && break; sleep 0.1; done
url=$(sed -n '1s/^listening on //p' "$work/emu"); creds=$(sed -n 2p "$work/emu")
export WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url
export WARROOM_TENANT=$(echo "$creds" | sed 's/.*tenant=\([^ ]*\).*/\1/') WARROOM_CLIENT_ID=$(echo "$creds" | sed 's/.*client_id=\([^ ]*\).*/\1/') WARROOM_CLIENT_SECRET=$(echo "$creds" | sed 's/.*client_secret=\([^ ]*\).*/\1/')
age-keygen -o "$work/id.txt" 2>/dev/null
"$bin" case new bench --recipient "$(age-keygen -y "$work/id.txt")" >/dev/null
export WARROOM_IDENTITY=$work/id.txt WARROOM_CASE=bench
log=$XDG_STATE_HOME/warroom/warroom.log
started=$(date +%s.%N)
tmux -L "$sock" new-session -d -x 160 -y 48 -e WARROOM_FRAME_STATS="$work/frames" \
  -e WARROOM_IDENTITY="$WARROOM_IDENTITY" -e WARROOM_CASE=bench "$bin"
for _ in $(seq 1 3600); do grep -q "budget_use=" "$log" 2>/dev/null && break; sleep 0.5; done
tmux -L "$sock" send-keys q
for _ in $(seq 1 100); do [ -s "$work/frames" ] && break; sleep 0.1; done
line=$(grep "budget_use=" "$log" | tail -n 1)
field() { echo "$line" | sed -n "s/.*$1=\([0-9.e+-]*\).*/\1/p"; }
printf 'console, 30-day history into a case: %s events in %.0f s, %s sign-in/audit requests, %.1f%% of the reports budget\n' \
  "$(field events)" "$(field seconds)" "$(field reports_requests)" "$(awk -v u="$(field budget_use)" 'BEGIN{print u*100}')"
echo "console while history lands: $(cat "$work/frames")"
p0=$(date +%s.%N)
"$bin" pull --since 30d --streams interactive,noninteractive,serviceprincipal,managedidentity,audit --out "$work/pull.ndjson" 2>"$work/pull.err" </dev/null
p1=$(date +%s.%N)
echo "pull, same window (sign-ins and audits): $(tail -n 1 "$work/pull.err" | sed 's/^warroom pull: //') [$(awk -v a="$p0" -v b="$p1" 'BEGIN{printf "%.0f", b-a}') s]"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB"
