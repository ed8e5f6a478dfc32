#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 120) and prints libFuzzer's
# final figures (executions, coverage, corpus). New inputs land in
# fuzz/corpus/TARGET; the real samples beside the checkout are read as extra
# seeds and never written. Needs `cargo install cargo-fuzz` and nightly.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(import json filter keys config sigma rules journal)
data=../../shared/data
for t in "${targets[@]}"; do
  extra=()
  case $t in
    import|json) extra=("$data/samples" "$data/sigma-windows/regression") ;;
    sigma) extra=("$data/sigma-windows/security") ;;
  esac
  seeds=()
  for d in "${extra[@]}"; do [ -d "$d" ] && seeds+=("$d"); done
  echo "== $t (${seconds} s)"
  cargo +nightly fuzz run -O "$t" "corpus/$t" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=262144 \
    -print_final_stats=1 2>&1 | grep -E '^(stat::|#[0-9]+ +DONE|==[0-9]+== ERROR|SUMMARY|artifact_prefix|Test unit written)' || true
done
