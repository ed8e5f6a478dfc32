#!/usr/bin/env bash
# `warroom scan` of an EVTX file of at least 100 MB (every detection), in
# events and megabytes per second, one thread and all cores; beside it the
# same events as NDJSON (what `scan --records` makes of them) scanned by
# warroom and filtered by jq, and python-evtx when it is installed.
# The file is built from the real EVTX samples in ../shared/data: their
# chunks that hold records, repeated (each chunk keeps its own checksum).
# Usage: cargo build --release && benches/evtx.sh [MB]   (default 100)
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-100}
bin=$PWD/target/release/warroom
samples=$(cd ../shared/data/samples/onprem 2>/dev/null && pwd) || { echo "needs ../shared/data/samples/onprem"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export XDG_CONFIG_HOME=$work/c XDG_STATE_HOME=$work/s XDG_DATA_HOME=$work/d XDG_CACHE_HOME=$work/x
python3 - "$work/big.evtx" "$mb" "$samples"/*/*.evtx <<'PY'
import struct, sys
out, mb, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
header, chunks = None, []
for path in files:
    data = open(path, "rb").read()
    if header is None:
        header = data[:4096]
    for at in range(4096, len(data) - 65535, 65536):
        chunk = data[at:at + 65536]
        first, last = struct.unpack_from("<QQ", chunk, 8)
        if chunk[:8] == b"ElfChnk\0" and last >= first > 0:
            chunks.append(chunk)
import zlib
count = -(-mb * 1_000_000 // 65536)
body = [chunks[i % len(chunks)] for i in range(count)]
# The header tells readers that trust it (python-evtx) how many chunks
# there are: set it, and its checksum (CRC32 of the first 120 bytes).
head = bytearray(header)
struct.pack_into("<QQ", head, 8, 0, count - 1)
struct.pack_into("<H", head, 42, count)
struct.pack_into("<I", head, 124, zlib.crc32(bytes(head[:120])))
with open(out, "wb") as f:
    f.write(bytes(head))
    for chunk in body:
        f.write(chunk)
PY
size=$(stat -c %s "$work/big.evtx")
best() { # best of 3, in ms
  local b=999999999
  for _ in 1 2 3; do local s; s=$(date +%s%N); "$@" >/dev/null 2>&1; local e=$(( ($(date +%s%N) - s) / 1000000 )); [ $e -lt $b ] && b=$e; done
  echo $b
}
events=$("$bin" scan "$work/big.evtx" --format json 2>&1 >/dev/null | sed -n 's/.*EVTX, \([0-9]*\) records.*/\1/p')
"$bin" scan --records "$work/big.evtx" 2>/dev/null | jq -c .record > "$work/big.ndjson"
echo "machine: $(nproc) cores, $(awk '/model name/{$1=$2=$3="";print;exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "file: $((size / 1000000)) MB EVTX, $events events; as NDJSON $(( $(stat -c %s "$work/big.ndjson") / 1000000 )) MB"
rate() { awk -v n="$1" -v ms="$2" -v mb="$3" 'BEGIN { printf "%8.0f events/s  %6.1f MB/s", n * 1000 / ms, mb * 1000 / ms }'; }
one=$(best "$bin" scan "$work/big.evtx" --format json --threads 1)
all=$(best "$bin" scan "$work/big.evtx" --format json)
nd=$(best "$bin" scan "$work/big.ndjson" --format json)
jqms=$(best jq -c 'select(.EventID == 4662 and (.Properties // "" | test("1131f6a")))' "$work/big.ndjson")
echo "warroom scan EVTX, 1 thread    $(printf %6d "$one") ms  $(rate "$events" "$one" "$((size / 1000000))")"
echo "warroom scan EVTX, $(nproc) threads   $(printf %6d "$all") ms  $(rate "$events" "$all" "$((size / 1000000))")"
echo "warroom scan NDJSON (same events) $(printf %6d "$nd") ms  $(rate "$events" "$nd" "$((size / 1000000))")"
echo "jq DCSync filter on the NDJSON    $(printf %6d "$jqms") ms  $(rate "$events" "$jqms" "$((size / 1000000))")"
if python3 -c "import Evtx" 2>/dev/null; then
  cat > "$work/py.py" <<'PY'
import sys
from Evtx.Evtx import Evtx
n = 0
seen = 0
with Evtx(sys.argv[1]) as log:
    for record in log.records():
        seen += 1
        try:
            n += "1131f6a" in record.xml()
        except Exception:
            pass  # python-evtx cannot render some records (CAPI2's UserData)
print(n, seen)
PY
  python3 "$work/py.py" "$work/big.evtx" > "$work/py.out" 2>&1 || true
  py=$(best python3 "$work/py.py" "$work/big.evtx")
  echo "python-evtx DCSync filter         $(printf %6d "$py") ms  $(rate "$events" "$py" "$((size / 1000000))")  (it read $(awk '{print $2}' "$work/py.out") records)"
else
  echo "python-evtx: not installed here"
fi
