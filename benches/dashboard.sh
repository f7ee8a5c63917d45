#!/usr/bin/env bash
# Benchmark: movement tracking at the size of the province (issue 20), on SQLite.
#   benches/dashboard.sh [PEOPLE] [COUNTER_RUNS] [GROUP_BY_RUNS]      (default 4000000 200 5)
# 1. imports a synthetic roster (its time is printed, not the subject), then times `hocvuso tracking rebuild`;
# 2. the province dashboard's numbers (province + its communes, every indicator, one year) from the counters,
#    next to the same numbers by GROUP BY over the person rows in the same run (`benches/dashboard.rs`);
# 3. the whole page /quan-ly/chi-tieu/25 for a province administrator, through HTTP.
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-4000000}"
counter_runs="${2:-200}"
group_by_runs="${3:-5}"

# With the benches, so that the binary and `cargo bench` share one build (dev-dependencies unify features).
cargo build --release --locked -q --bins --benches
target="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target/release/hocvuso"
work="$(mktemp -d /tmp/hocvuso-bench.XXXXXX)"
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
export HOCVUSO_DATA_KEY=6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
export DATABASE_URL="sqlite://$work/hocvuso.db"
now() { date +%s.%N; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); people: $people"
"$bin" generate units --seed 20 --out "$work/units.csv" 2>/dev/null
"$bin" generate organisations --seed 20 --out "$work/orgs.csv" 2>/dev/null
"$bin" generate people --count "$people" --seed 20 --out "$work/people.csv" 2>/dev/null
echo "roster: $(du -h "$work/people.csv" | cut -f1)"
"$bin" migrate 2>/dev/null
"$bin" import units "$work/units.csv" >/dev/null 2>&1
"$bin" import organisations "$work/orgs.csv" >/dev/null 2>&1
t0=$(now)
"$bin" import people "$work/people.csv" >/dev/null 2>"$work/import.log"
echo "import people (not the subject): $(since "$t0") s"
rm -f "$work/people.csv"
echo "database size: $(du -h "$work/hocvuso.db" | cut -f1)"

t0=$(now)
"$bin" tracking rebuild 2>"$work/rebuild.log"
echo "tracking rebuild: $(since "$t0") s (whole command; $(tail -1 "$work/rebuild.log"))"

bench="$(ls -t "$target"/release/deps/dashboard-* | grep -v '\.d$' | head -1)"
"$bench" --bench "$DATABASE_URL" "$counter_runs" "$group_by_runs"

# The whole page for a province administrator, through HTTP (sequential requests, one connection each).
port=18191
base="http://127.0.0.1:$port"
printf 'rừng cọ đồi chè 2025\n' | "$bin" user add --login bench.tinh --role quan_tri_tinh --unit 25 --password-stdin >/dev/null 2>&1
"$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$work/cookies"
. benches/common/login.sh
browser_login "$base" "$jar" bench.tinh "rừng cọ đồi chè 2025"
page="/quan-ly/chi-tieu/25"
status=$(curl -s -o "$work/page.html" -w '%{http_code}' -b "$jar" "$base$page")
if [ "$status" = 200 ]; then
  for _ in $(seq 5); do curl -s -o /dev/null -b "$jar" "$base$page"; done
  for _ in $(seq 50); do curl -s -o /dev/null -w '%{time_total}\n' -b "$jar" "$base$page"; done >"$work/times"
  python3 - "$work/times" "$(wc -c <"$work/page.html")" <<'PY'
import sys
t = sorted(float(x) for x in open(sys.argv[1]))
print(f"page {'/quan-ly/chi-tieu/25'} ({int(sys.argv[2]):,} bytes): p50 {t[len(t)//2]*1000:.1f} ms, "
      f"p95 {t[int(len(t)*0.95)]*1000:.1f} ms ({len(t)} requests, curl)")
PY
else
  echo "page $page answered $status for the province administrator: not timed"
fi
