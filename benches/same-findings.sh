#!/usr/bin/env bash
# Same findings from two builds: for a change that must not change what
# `scan` finds (a refactor, a speed-up). Scans, with each binary, every
# file of ../shared/data/samples one by one, then an emulator pull
# (golden-saml, seed 5, a fixed --now so the tenant is the same whatever
# the hour) with its on-premises export, and compares `--format json`
# byte for byte.
#
#   benches/same-findings.sh OLD_BIN [NEW_BIN]
#
# NEW_BIN defaults to target/release/warroom; the pull is made with it.
# Prints one line per difference and a summary; exits 1 on any difference.
set -euo pipefail
old=${1:?usage: same-findings.sh OLD_BIN [NEW_BIN]}
new=${2:-$PWD/target/release/warroom}
samples=$(cd "$(dirname "$0")/../../shared/data/samples" && pwd)
work=$(mktemp -d)
trap 'kill $emu 2>/dev/null || true; rm -rf "$work"' EXIT

same=0 differ=0
compare() { # NAME FILE...
  local name=$1; shift
  "$old" scan "$@" --format json >"$work/old.json" 2>/dev/null || true
  "$new" scan "$@" --format json >"$work/new.json" 2>/dev/null || true
  if [ ! -s "$work/new.json" ]; then
    differ=$((differ + 1))
    echo "no findings printed: $name"
  elif cmp -s "$work/old.json" "$work/new.json"; then
    same=$((same + 1))
  else
    differ=$((differ + 1))
    echo "differs: $name"
  fi
}

while IFS= read -r file; do
  compare "${file#"$samples"/}" "$file"
done < <(find "$samples" -type f ! -name '*.md' | sort)

mkdir -p "$work/onprem" "$work/home"
"$new" emulator --scenario golden-saml --seed 5 --signins 5000 --no-throttle \
  --now 2026-12-01T13:37:00Z --export-onprem "$work/onprem" >"$work/emu" 2>/dev/null &
emu=$!
while [ "$(wc -l <"$work/emu")" -lt 2 ]; do sleep 0.1; done
url=$(head -n1 "$work/emu" | sed 's/^listening on //')
for kv in $(sed -n 2p "$work/emu"); do
  case $kv in
    tenant=*) export WARROOM_TENANT=${kv#*=} ;;
    client_id=*) export WARROOM_CLIENT_ID=${kv#*=} ;;
    client_secret=*) export WARROOM_CLIENT_SECRET=${kv#*=} ;;
  esac
done
HOME=$work/home WARROOM_GRAPH_URL=$url WARROOM_AUTHORITY_URL=$url \
  "$new" pull --from 2026-10-01T00:00:00Z --to 2026-12-02T00:00:00Z \
  --out "$work/cloud.ndjson" </dev/null 2>/dev/null
[ "$(wc -l <"$work/cloud.ndjson")" -gt 5000 ] || { echo "the pull is short"; exit 1; }
compare "emulator pull (golden-saml, seed 5)" "$work/cloud.ndjson"
compare "emulator pull with its on-premises export" "$work/cloud.ndjson" "$work"/onprem/*

echo "same findings: $same; different: $differ"
[ "$differ" -eq 0 ]
