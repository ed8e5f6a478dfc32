#!/usr/bin/env bash
# Cold start to first frame, in a real terminal (tmux), against a minimal
# Python curses program doing the same (start, draw one frame, restore).
# Usage: cargo build --release && benches/startup.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-30}
bin=$PWD/target/release/warroom
[ -x "$bin" ] || { echo "build first: cargo build --release"; exit 1; }
command -v tmux >/dev/null || { echo "needs tmux"; exit 1; }
work=$(mktemp -d)
sock="warroom-bench-$$"
trap 'tmux -L $sock kill-server 2>/dev/null; rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/config XDG_STATE_HOME=$work/state XDG_DATA_HOME=$work/data XDG_CACHE_HOME=$work/cache

cat > "$work/loop.sh" <<LOOP
for i in \$(seq 1 $runs); do
  s=\$(date +%s%N); "$bin" --bench-startup 2>>"$work/first"; e=\$(date +%s%N)
  echo \$(( (e - s) / 1000 )) >> "$work/warroom"
  s=\$(date +%s%N); python3 -c 'import curses; curses.wrapper(lambda s: (s.addstr(0, 0, "x"), s.refresh()))'; e=\$(date +%s%N)
  echo \$(( (e - s) / 1000 )) >> "$work/python"
done
touch "$work/done"
LOOP
tmux -L "$sock" -f /dev/null new-session -d -x 120 -y 40 "bash $work/loop.sh"
for _ in $(seq 1 600); do [ -f "$work/done" ] && break; sleep 0.1; done
[ -f "$work/done" ] || { echo "timed out"; exit 1; }

stats() { # file scale label
  sort -n "$1" | awk -v label="$3" -v scale="$2" '{a[NR]=$1} END {
    printf "%-44s median %7.2f ms   min %7.2f ms   max %7.2f ms   (n=%d)\n", label, a[int((NR+1)/2)]/scale, a[1]/scale, a[NR]/scale, NR }'
}
sed -n 's/^first frame after \([0-9.]*\) ms$/\1/p' "$work/first" > "$work/first_ms"
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
stats "$work/first_ms" 1 "warroom: main() to first frame"
stats "$work/warroom" 1000 "warroom: exec to exit (first frame, restore)"
stats "$work/python" 1000 "python3 curses: exec to exit (one frame)"
