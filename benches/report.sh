#!/usr/bin/env bash
# Benchmark: the whole province's quarterly report in each format (issue 21), release build.
#   benches/report.sh [PEOPLE] [RUNS] [QUARTER]      (default 4000000 3 2025Q4)
# Prepares a database with `hocvuso demo --people PEOPLE` (its time is printed, not the subject), then
# times `hocvuso report quarterly --unit 25` RUNS times per format, and a commune's report. The
# baseline in the same run is the CSV of the same report: the same figures gathered from the same
# database, written as plain text, so PDF − CSV is what the document engine (Typst) costs and
# XLSX − CSV what rust_xlsxwriter costs. Set DATABASE_URL to a prepared database to skip the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-4000000}"
runs="${2:-3}"
quarter="${3:-2025Q4}"

cargo build --release --locked -q --bin hocvuso
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/hocvuso"
work="$(mktemp -d /tmp/hocvuso-report.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export HOCVUSO_DATA_KEY="${HOCVUSO_DATA_KEY:-6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d}"
now() { date +%s.%N; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.3f}')" "$1"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -z "${DATABASE_URL:-}" ]; then
  export DATABASE_URL="sqlite://$work/hocvuso.db"
  t0=$(now)
  "$bin" demo --people "$people" --seed 21 --no-serve --content content >/dev/null 2>"$work/demo.log" \
    || { tail -20 "$work/demo.log"; exit 1; }
  echo "prepared by \`hocvuso demo --people $people\` in $(since "$t0") s (not the subject)"
fi
commune=$(sed -n 's/.*demo accounts, one per role, in \([0-9]*\):.*/\1/p' "$work/demo.log" 2>/dev/null || true)

report() { # unit format → "seconds bytes" of the fastest of $runs runs
  local best="" size=0
  for _ in $(seq "$runs"); do
    local t0; t0=$(now)
    "$bin" report quarterly --quarter "$quarter" --unit "$1" --format "$2" --out "$work/r.$2" >/dev/null 2>"$work/r.log" \
      || { cat "$work/r.log"; exit 1; }
    local t; t=$(since "$t0")
    best=$(python3 -c "import sys; print(min(float(x) for x in sys.argv[1:] if x))" "$t" "$best")
    size=$(stat -c %s "$work/r.$2")
  done
  echo "$best $size"
}

printf '%-22s %-6s %12s %12s %16s\n' unit format "best of $runs" bytes "× the CSV"
for unit in 25 ${commune:+"$commune"}; do
  read -r base_s base_b < <(report "$unit" csv)
  printf '%-22s %-6s %10.3f s %12s %16s\n' "$unit" csv "$base_s" "$base_b" "1.00 (baseline)"
  for format in xlsx pdf; do
    read -r s b < <(report "$unit" "$format")
    printf '%-22s %-6s %10.3f s %12s %16s\n' "$unit" "$format" "$s" "$b" \
      "$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$s" "$base_s")"
  done
done
[ "$quarter" = 2025Q4 ] && pdftotext "$work/r.pdf" - 2>/dev/null | head -3 | sed 's/^/last PDF: /' || true
