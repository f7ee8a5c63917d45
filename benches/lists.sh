#!/usr/bin/env bash
# Benchmark: a commune's three "who needs help" lists (src/tracking/visit.rs: adults not passed,
# households where nobody has learned, citizens without VNeID level 2 or a digital bank account) at
# the size of the province, on SQLite and on PostgreSQL, for the officer of the largest commune: the
# first page (50 rows, HTML) and the whole list as CSV. Each is timed with the lists' partial indexes
# and, in the same run, without them (dropped): the baseline is the same list with no index of its own.
#   benches/lists.sh [PEOPLE] [RUNS]        (default 4000000 10)
# The import leaves nobody learned, so a state of mid-plan is written with SQL before the server
# starts: somebody has learned in four households of five (the last digit of the household's number
# picks the fifth), three learners in five have passed, seven people in ten hold VNeID level 2 and
# eight in ten a digital bank account. Then the planner's statistics, as autovacuum would leave them.
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-4000000}"
runs="${2:-10}"
indexes="${LIST_INDEXES:-person_not_passed person_household_learned person_digital_gap}"
. benches/common/prelude.sh
needs sqlite3
db="hocvuso_lists_$$"
pg_url="${pg_admin%/*}/$db"
at_exit 'psql -Xq "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"'
export RUST_LOG=hocvuso=warn
port=18193
base="http://127.0.0.1:$port"

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); people: $people; indexes: $indexes"
generate_roster "$people"

mid_plan="UPDATE person SET
  learned_at = CASE WHEN substr(household_code, length(household_code), 1) IN ('0', '1') THEN NULL ELSE 1735689600 + id END,
  passed_groups = CASE WHEN substr(household_code, length(household_code), 1) IN ('0', '1') OR id % 5 >= 3 THEN 0 ELSE 1 END,
  vneid_level = CASE WHEN id % 10 < 7 THEN 2 ELSE 1 END,
  bank_account = CASE WHEN id % 10 < 8 THEN 1 ELSE 0 END;"

# SQL on the registry of the backend under test.
sql() { if [ "$backend" = sqlite ]; then sqlite3 "$work/r.db" "$1"; else psql -XqtA "$pg_url" -c "$1"; fi; }

stats() { sort -n | awk '{a[NR] = $1 * 1000} END {
  p95 = int(NR * 0.95) + 1; if (p95 > NR) p95 = NR
  printf "median %7.1f ms, p95 %7.1f ms (%d runs)", a[int(NR / 2) + 1], a[p95], NR }'; }
cpu() { awk '{print $14 + $15}' "/proc/$server/stat"; }
ticks=$(getconf CLK_TCK)

start_server() {
  "$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
  curl -sf "$base/healthz" >/dev/null || { echo "the server did not start"; tail "$work/serve.log"; exit 1; }
  rm -f "$work/cookies"
  browser_login "$base" "$work/cookies" bench.xa "rừng cọ đồi chè 2025" || { echo "login failed"; tail "$work/serve.log"; exit 1; }
}
stop_server() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

# Every list's first page and CSV, RUNS sequential requests each after one warm-up.
measure() {
  local variant=$1 list url status rows c0
  for list in chua_dat ho_chua_hoc so_hoa; do
    url="$base/quan-ly/don-vi/$commune/can-ho-tro"
    status=$(curl -s -b "$work/cookies" -o "$work/out.csv" -w '%{http_code}' "$url.csv?danh_sach=$list")
    [ "$status" = 200 ] || { echo "the $list export answered $status"; tail "$work/serve.log"; exit 1; }
    rows=$(( $(wc -l <"$work/out.csv") - 1 ))
    curl -s -b "$work/cookies" -o /dev/null "$url?danh_sach=$list"
    c0=$(cpu)
    printf '%-8s %-7s %-12s %6d rows  page: %s' "$backend" "$variant" "$list" "$rows" \
      "$(for _ in $(seq "$runs"); do curl -s -b "$work/cookies" -o /dev/null -w '%{time_total}\n' "$url?danh_sach=$list"; done | stats)"
    printf ', CPU %d ms\n' $(( ($(cpu) - c0) * 1000 / ticks / runs ))
    c0=$(cpu)
    printf '%-8s %-7s %-12s %6s       CSV:  %s' "" "" "" "" \
      "$(for _ in $(seq "$runs"); do curl -s -b "$work/cookies" -o /dev/null -w '%{time_total}\n' "$url.csv?danh_sach=$list"; done | stats)"
    printf ', CPU %d ms\n' $(( ($(cpu) - c0) * 1000 / ticks / runs ))
  done
}

. benches/common/login.sh
for backend in sqlite postgres; do
  new_registry "$backend" "$db"
  "$bin" import people "$work/people.csv" >/dev/null 2>&1
  sql "$mid_plan" >/dev/null
  if [ "$backend" = sqlite ]; then sql "ANALYZE" >/dev/null; else sql "VACUUM ANALYZE person" >/dev/null; fi
  commune=$(sql "SELECT commune_code FROM person GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
  [ "$backend" = sqlite ] && echo "commune $commune: $(sql "SELECT count(*) FROM person WHERE commune_code = '$commune'") people"
  printf 'rừng cọ đồi chè 2025\n' | "$bin" user add --login bench.xa --role can_bo_xa --unit "$commune" --password-stdin >/dev/null 2>&1
  start_server
  measure with
  stop_server
  for index in $indexes; do sql "DROP INDEX IF EXISTS $index" >/dev/null; done
  start_server
  measure without
  stop_server
  [ "$backend" = sqlite ] && rm -f "$work"/r.db*
done
rm -f "$work/people.csv"
