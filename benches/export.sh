#!/usr/bin/env bash
# Benchmark: a commune's "who needs help" CSV export (GET /quan-ly/don-vi/{commune}/can-ho-tro.csv,
# the adults not yet passed) for its commune officer, at the size of the province, on SQLite; next
# to, in the same run, SQLite alone reading the same rows (the sqlite3 shell, rows discarded, its
# page cache warm): what the platform adds over the read itself. Also the same rows as an XLSX workbook.
#   benches/export.sh [PEOPLE] [RUNS]        (default 4000000 30)
# The registry is generated and imported (nobody has learned yet, so the list is every adult of the
# commune: the longest it gets); the commune is the registry's largest.
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-4000000}"
runs="${2:-30}"
. benches/common/prelude.sh
needs sqlite3
export DATABASE_URL="sqlite://$work/hocvuso.db"
export RUST_LOG=hocvuso=warn
port=18192
base="http://127.0.0.1:$port"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg); people: $people"
"$bin" generate units --seed 20 --out "$work/units.csv" 2>/dev/null
"$bin" generate organisations --seed 20 --out "$work/orgs.csv" 2>/dev/null
"$bin" generate people --count "$people" --seed 20 --out "$work/people.csv" 2>/dev/null
"$bin" migrate 2>/dev/null
"$bin" import units "$work/units.csv" >/dev/null 2>&1
"$bin" import organisations "$work/orgs.csv" >/dev/null 2>&1
"$bin" import people "$work/people.csv" >/dev/null 2>&1
rm -f "$work/people.csv"
commune=$(sqlite3 "$work/hocvuso.db" "SELECT commune_code FROM person GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
echo "commune $commune: $(sqlite3 "$work/hocvuso.db" "SELECT count(*) FROM person WHERE commune_code = '$commune'") people"

printf 'rừng cọ đồi chè 2025\n' | "$bin" user add --login bench.xa --role can_bo_xa --unit "$commune" --password-stdin >/dev/null 2>&1
"$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
jar="$work/cookies"
. benches/common/login.sh
browser_login "$base" "$jar" bench.xa "rừng cọ đồi chè 2025"

url="$base/quan-ly/don-vi/$commune/can-ho-tro.csv"
status=$(curl -s -b "$jar" -o "$work/export.csv" -w '%{http_code}' "$url")
[ "$status" = 200 ] || { echo "the export answered $status"; tail "$work/serve.log"; exit 1; }
echo "export: $(( $(wc -l <"$work/export.csv") - 1 )) rows, $(du -k "$work/export.csv" | cut -f1) KiB"
status=$(curl -s -b "$jar" -o "$work/export.xlsx" -w '%{http_code}' "${url%.csv}.xlsx")
[ "$status" = 200 ] || { echo "the XLSX export answered $status"; tail "$work/serve.log"; exit 1; }
echo "export as XLSX: $(du -k "$work/export.xlsx" | cut -f1) KiB"

# The list's own query (src/tracking/visit.rs, `fetch`, the list of adults not passed, oldest
# first), as the server runs it for a commune officer.
year=$(date +%Y)
query="SELECT p.id, p.full_name, p.birth_year, p.village_code, u.name, p.household_code, p.phone, p.learned_at,
  p.passed_groups, p.certified_groups, p.vneid_confirmed_at, p.vneid_level, p.bank_account
  FROM person p LEFT JOIN unit u ON u.code = p.village_code
  WHERE p.erased_at IS NULL AND p.birth_year <= $(( year - 18 )) AND p.passed_groups = 0
  AND (p.village_code IN (SELECT code FROM unit WHERE parent_code IN ('$commune')))
  ORDER BY p.birth_year, p.id;"

# Sequential requests, one connection each, after one warm-up; the percentiles of RUNS.
stats() { sort -n | awk '{a[NR] = $1 * 1000} END {
  p95 = int(NR * 0.95) + 1; if (p95 > NR) p95 = NR
  printf "median %.1f ms, p95 %.1f ms, max %.1f ms (%d runs)\n", a[int(NR / 2) + 1], a[p95], a[NR], NR }'; }
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
ticks=$(getconf CLK_TCK)
c0=$(cpu)
for _ in $(seq "$runs"); do curl -s -b "$jar" -o /dev/null -w '%{time_total}\n' "$url"; done | stats | sed 's/^/platform, HTTP export:        /'
echo "platform, server CPU:         $(( ($(cpu) - c0) * 1000 / ticks / runs )) ms per export"
# The same rows as an XLSX workbook (written on a blocking thread, as the CSV is).
c0=$(cpu)
for _ in $(seq "$runs"); do curl -s -b "$jar" -o /dev/null -w '%{time_total}\n' "${url%.csv}.xlsx"; done | stats | sed 's/^/platform, HTTP export, XLSX:  /'
echo "platform, server CPU, XLSX:   $(( ($(cpu) - c0) * 1000 / ticks / runs )) ms per export"
# SQLite alone: the same query twice in one sqlite3 shell, rows discarded, the second run timed (its
# page cache warm, as the server's is).
sqlite_once() {
  printf '.output /dev/null\n%s\n.timer on\n%s\n' "$query" "$query" \
    | sqlite3 -cmd "PRAGMA cache_size = -65536" "$work/hocvuso.db" | sed -n 's/^Run Time: real \([0-9.]*\).*/\1/p'
}
for _ in $(seq "$runs"); do sqlite_once; done | stats | sed 's/^/baseline, sqlite3 same rows:  /'
