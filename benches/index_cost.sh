#!/usr/bin/env bash
# Benchmark: what one index of `person` costs the roster import. The same generated roster is imported
# into a new registry with the index (as the migrations leave it) and without it (dropped before the
# import, which then has none to rebuild), in turns, on SQLite and on PostgreSQL; the difference is the
# index's share of the whole command. Also the index's size.
#   benches/index_cost.sh [INDEX] [PEOPLE] [ROUNDS]     (default person_not_passed 4000000 2)
set -euo pipefail
cd "$(dirname "$0")/.."
index="${1:-person_not_passed}"
people="${2:-4000000}"
rounds="${3:-2}"
[[ "$index" =~ ^[a-z_]+$ ]] || { echo "an index name, in lower case: $index" >&2; exit 2; }
. benches/common/prelude.sh
needs sqlite3
db="hocvuso_index_cost_$$"
pg_url="${pg_admin%/*}/$db"
at_exit 'psql -Xq "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"'
now() { date +%s.%N; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); people: $people; index: $index"
generate_roster "$people"

# One import into a new registry of BACKEND, with or without the index; prints the seconds.
import_once() {
  local backend=$1 variant=$2
  new_registry "$backend" "$db"
  if [ "$variant" = without ]; then
    if [ "$backend" = sqlite ]; then sqlite3 "$work/r.db" "DROP INDEX $index"; else psql -Xq "$DATABASE_URL" -c "DROP INDEX $index"; fi
  fi
  sync
  local t0 t1
  t0=$(now)
  "$bin" import people "$work/people.csv" >/dev/null 2>"$work/import.log" || { cat "$work/import.log" >&2; exit 1; }
  t1=$(now)
  python3 -c "print(f'{$t1 - $t0:.1f}')"
}

for backend in sqlite postgres; do
  with=() without=()
  for round in $(seq "$rounds"); do
    # Alternate the order, so that a machine slowing down through the run weighs on both.
    if [ $((round % 2)) = 1 ]; then
      with+=("$(import_once "$backend" with)"); without+=("$(import_once "$backend" without)")
    else
      without+=("$(import_once "$backend" without)"); with+=("$(import_once "$backend" with)")
    fi
  done
  # The last import was of the variant named last: measure the index on a registry that has it.
  [ "$(( rounds % 2 ))" = 1 ] && import_once "$backend" with >/dev/null
  if [ "$backend" = sqlite ]; then
    size=$(sqlite3 "$work/r.db" "SELECT sum(pgsize) FROM dbstat WHERE name = '$index'" 2>/dev/null || echo "?")
    # An index's entries are its pages' cells (an index b-tree keeps entries in its inner pages too), whatever its WHERE.
    rows=$(sqlite3 "$work/r.db" "SELECT sum(ncell) FROM dbstat WHERE name = '$index'" 2>/dev/null || echo "?")
  else
    size=$(psql -XtAq "$pg_url" -c "SELECT pg_relation_size('$index')")
    rows=$(psql -XtAq "$pg_url" -c "SELECT reltuples::bigint FROM pg_class WHERE relname = '$index'")
  fi
  python3 - "$backend" "$people" "$size" "$rows" "${with[*]}" "${without[*]}" <<'PY'
import sys
backend, people, size, rows, w, wo = sys.argv[1:]
w = [float(x) for x in w.split()]; wo = [float(x) for x in wo.split()]
mw, mwo = min(w), min(wo)
mb = f"{int(size) / 2**20:.1f} MB" if size.isdigit() else size
print(f"{backend:8} import with the index:    {', '.join(f'{x:.1f}' for x in w)} s (best {mw:.1f} s, {int(people) / mw:,.0f} rows/s)")
print(f"{backend:8} import without it:        {', '.join(f'{x:.1f}' for x in wo)} s (best {mwo:.1f} s, {int(people) / mwo:,.0f} rows/s)")
print(f"{backend:8} the index costs {mw - mwo:+.1f} s ({(mw / mwo - 1) * 100:+.0f} %); its size {mb}, {rows} rows")
PY
done
