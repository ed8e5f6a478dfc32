#!/usr/bin/env bash
# An hour under faults. The console (in tmux, with a case) and `watch`
# (headless, with a second case) follow the emulated tenant (100,000
# sign-ins of history, 120 new ones a minute) with --live and every fault
# kind on. Meanwhile it samples resident memory of both and
# moves around the console as a responder would. At the end it checks:
#   - no panic in the log or on `watch`'s stderr;
#   - every stream healthy in the console's status bar at the end;
#   - `case verify` intact for both cases, and no event held twice;
#   - the findings `watch` gives over its case equal a fresh `scan` of the
#     same events (exported from the case);
#   - resident memory at the end within 20 % of its value after 5 minutes
#     (medians of minutes 5-10 and of the last five: pages in flight move
#     it by a few MiB from one sample to the next).
# Prints the figures (RSS first/at 5 min/last/max, frame p99, faults
# injected per kind) and exits 1 when a check fails.
#
# Usage: cargo build --release && benches/soak.sh [MINUTES]
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-60}
bin=$PWD/target/release/warroom
work=$(mktemp -d)
sock=soak-$$
emu= watcher=
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
  [ -n "$emu" ] && kill "$emu" 2>/dev/null || true
  if [ -n "${SOAK_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
faults=429:0.03,500:0.01,503:0.02,504:0.01,slow:0.02,reset:0.01,malformed:0.01,page-token:0.3
"$bin" emulator --scenario golden-saml --signins 100000 --days 30 --seed 9 --live --live-rate 120 \
  --faults "$faults" >"$work/emu" 2>"$work/emu.err" &
emu=$!
for _ in $(seq 1 300); do [ "$(wc -l <"$work/emu")" -ge 2 ] && break; sleep 0.1; done
url=$(sed -n '1s/^listening on //p' "$work/emu")
for kv in $(sed -n 2p "$work/emu"); do
  case $kv in
    tenant=*) export WARROOM_TENANT=${kv#*=} ;;
    client_id=*) export WARROOM_CLIENT_ID=${kv#*=} ;;
    client_secret=*) export WARROOM_CLIENT_SECRET=${kv#*=} ;;
  esac
done
export WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url
age-keygen -o "$work/id.txt" 2>/dev/null
export WARROOM_IDENTITY=$work/id.txt
recipient=$(age-keygen -y "$work/id.txt")
"$bin" case new console --recipient "$recipient" >/dev/null
"$bin" case new headless --recipient "$recipient" >/dev/null
log=$XDG_STATE_HOME/warroom/warroom.log

tmux -L "$sock" new-session -d -x 160 -y 48 -e WARROOM_FRAME_STATS="$work/frames" \
  -e WARROOM_CASE=console "$bin"
console=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
"$bin" watch --case headless --no-posture >"$work/watch.ndjson" 2>"$work/watch.err" &
watcher=$!

rss() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
echo "seconds,console_kib,watch_kib" >"$work/rss.csv"
keys=(Tab j j k Enter Escape Tab Tab j G g Tab)
end=$(($(date +%s) + minutes * 60))
start=$(date +%s) i=0
while [ "$(date +%s)" -lt "$end" ]; do
  kill -0 "$console" 2>/dev/null || { echo "the console died"; exit 1; }
  kill -0 "$watcher" 2>/dev/null || { echo "watch died: $(tail -n 3 "$work/watch.err")"; exit 1; }
  echo "$(($(date +%s) - start)),$(rss "$console"),$(rss "$watcher")" >>"$work/rss.csv"
  tmux -L "$sock" send-keys "${keys[$((i % ${#keys[@]}))]}"
  i=$((i + 1))
  sleep 15
done

# Health at the end: the status bar must show every stream live within a
# few minutes (a fault may hold one stream back for a retry).
healthy= bar=
for _ in $(seq 1 36); do
  bar=$(tmux -L "$sock" capture-pane -p | tail -n 1)
  if echo "$bar" | grep -Eq 'live ([0-9]+)/\1 '; then healthy=$bar; break; fi
  sleep 5
done
tmux -L "$sock" send-keys q
for _ in $(seq 1 100); do [ -s "$work/frames" ] && break; sleep 0.1; done
kill -INT "$watcher"; wait "$watcher" 2>/dev/null || true; watcher=

fail=0
check() { # OK? WHAT
  if [ "$1" = 0 ]; then echo "ok: $2"; else echo "FAILED: $2"; fail=1; fi
}
grep -qi "panicked" "$log" "$work/watch.err" && p=1 || p=0
check $p "no panic in the log or on watch's stderr"
[ -n "$healthy" ] && h=0 || h=1
check $h "every stream live at the end (status bar: ${healthy:-$bar})"
for c in console headless; do
  out=$("$bin" case verify "$c" 2>&1) && v=0 || v=1
  check $v "case verify $c: $out"
done

# The same events through `watch` (over its case, without new history)
# and through a fresh `scan` of the case's events.
"$bin" watch --case headless --no-posture --until-caught-up --format json \
  >"$work/watch.json" 2>"$work/watch-final.err" || true
"$bin" case export headless --format events --out "$work/events.ndjson" 2>/dev/null
"$bin" scan "$work/events.ndjson" --format json >"$work/scan.json" 2>/dev/null || true
shape='[.[] | {detection: (.detection // .rule // .id), severity, count: (.count // .evidence_count), entities: ((.entities // []) | map(tostring) | sort)}] | sort_by(.detection, .entities) '
jq -S "$shape" "$work/watch.json" >"$work/a" && jq -S "$shape" "$work/scan.json" >"$work/b"
diff -q "$work/a" "$work/b" >/dev/null && s=0 || s=1
check $s "findings of watch over its case = a fresh scan of its $(wc -l <"$work/events.ndjson") events ($(jq length "$work/watch.json") findings)"
[ $s = 1 ] && diff "$work/a" "$work/b" | head -n 20

kill -INT "$emu"; wait "$emu" 2>/dev/null || true; emu=
# Resident memory moves by a few MiB with each page of events in flight:
# compare the median of minutes 5 to 10 with the median of the last five.
median() { # COLUMN FROM TO (seconds)
  awk -F, -v c="$1" -v a="$2" -v b="$3" 'NR>1 && $1>=a && $1<b {print $c}' "$work/rss.csv" | sort -n |
    awk '{v[NR]=$1} END{if (NR) print v[int((NR+1)/2)]; else print 0}'
}
last=$(awk -F, 'END{print $1}' "$work/rss.csv")
mib() { awk -v k="$1" 'BEGIN{printf "%.1f MiB", k/1024}'; }
for col in 2 3; do
  name=$([ $col = 2 ] && echo console || echo watch)
  early=$(median $col 300 600); late=$(median $col $((last - 300)) $((last + 1)))
  read -r first final max < <(awk -F, -v c=$col 'NR==2{f=$c} NR>1{l=$c; if($c>m)m=$c} END{print f, l, m}' "$work/rss.csv")
  echo "$name RSS: first $(mib "$first"), median of minutes 5-10 $(mib "$early"), median of the last 5 minutes $(mib "$late"), last $(mib "$final"), max $(mib "$max")"
  awk -v a="$early" -v b="$late" 'BEGIN{exit !(a > 0 && b <= a * 1.2)}' && r=0 || r=1
  check $r "$name RSS at the end within 20 % of its value after 5 minutes (medians)"
done
echo "console timings: $(cat "$work/frames" 2>/dev/null)"
echo "$(grep 'faults injected' "$work/emu.err" | sed 's/^warroom emulator: //') over $minutes minutes"
echo "events kept: console $("$bin" case verify console 2>&1 | sed -n 's/.*; \([0-9]*\) pulled events.*/\1/p'), watch $(wc -l <"$work/events.ndjson")"
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(free -g | awk '/Mem:/{print $2}') GiB"
exit $fail
