#!/usr/bin/env bash
# Benchmark: import of a synthetic roster, next to the bare-table baseline measured in the same run.
#   benches/import.sh [PEOPLE] [sqlite|postgres|both]     (default 4000000 both)
# SQLite baseline: the sqlite3 shell's .import of the same CSV into a bare table.
# PostgreSQL baseline: COPY of the same CSV into a bare table.
# Also: resident memory of `hocvuso serve` on the imported SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-4000000}"
which="${2:-both}"
. benches/common/prelude.sh
needs sqlite3
now() { date +%s.%N; }
rate() { python3 -c "import sys; n,t=float(sys.argv[1]),float(sys.argv[2]); print(f'{n/t:,.0f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }

# Schema, villages and organisations of $DATABASE_URL: set up before the timed people import.
prepare_registry() {
  "$bin" migrate 2>/dev/null
  "$bin" import units "$work/units.csv" >/dev/null 2>&1
  "$bin" import organisations "$work/orgs.csv" >/dev/null 2>&1
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB; rows: $people"
"$bin" generate units --out "$work/units.csv" 2>/dev/null
"$bin" generate organisations --out "$work/orgs.csv" 2>/dev/null
"$bin" generate people --count "$people" --out "$work/people.csv" 2>/dev/null
echo "roster: $(du -h "$work/people.csv" | cut -f1)"

if [ "$which" != postgres ]; then
  # Baseline: the sqlite3 shell, a bare WAL table, one transaction.
  t0=$(now)
  sqlite3 "$work/bare.db" <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE bare (cccd TEXT, ho_ten TEXT, ngay_sinh TEXT, gioi_tinh TEXT, ma_xa TEXT, thon TEXT, ma_ho TEXT,
  dan_toc TEXT, doi_tuong TEXT, dien_thoai TEXT, cap_hoc TEXT, ma_to_chuc TEXT);
.mode csv
.import --skip 1 $work/people.csv bare
SQL
  t1=$(now); base=$(python3 -c "print($t1-$t0)")

  export DATABASE_URL="sqlite://$work/hocvuso.db"
  prepare_registry
  t0=$(now)
  "$bin" import people "$work/people.csv" > /dev/null 2>"$work/import.log"
  t1=$(now); ours=$(python3 -c "print($t1-$t0)")
  echo "SQLite  baseline sqlite3 .import (bare table): $(rate "$people" "$base") rows/s (${base:0:6} s)"
  echo "SQLite  hocvuso import people (whole command): $(rate "$people" "$ours") rows/s (${ours:0:6} s) = $(ratio "$base" "$ours") x baseline"
  echo "        database size: $(du -h "$work/hocvuso.db" | cut -f1)"

  # Resident memory of the server on that database, after it has served the busiest pages.
  "$bin" serve --listen 127.0.0.1:18089 2>/dev/null &
  server=$!
  for _ in $(seq 50); do curl -fs http://127.0.0.1:18089/healthz >/dev/null 2>&1 && break; sleep 0.2; done
  for path in / /don-vi/25 /don-vi/04792 /api/v1/units/25 /api/v1/units/04792 /api/v1/units; do
    for _ in $(seq 20); do curl -fs "http://127.0.0.1:18089$path" >/dev/null; done
  done
  rss=$(awk '/VmRSS/{print $2}' /proc/$server/status)
  kill -TERM $server; wait $server || true
  echo "Memory  hocvuso serve on the $people-person database: $((rss / 1024)) MB resident (budget 150 MB)"

  # The same import into a new registry with a server running on it: the load goes through the WAL, the server
  # answers reads throughout, and its writers wait for the write lock up to the whole command.
  export DATABASE_URL="sqlite://$work/served.db"
  prepare_registry
  "$bin" serve --listen 127.0.0.1:18089 2>/dev/null &
  server=$!
  for _ in $(seq 50); do curl -fs http://127.0.0.1:18089/healthz >/dev/null 2>&1 && break; sleep 0.2; done
  t0=$(now)
  "$bin" import people "$work/people.csv" > /dev/null 2>"$work/import-served.log" &
  import=$!
  slowest=0
  while kill -0 $import 2>/dev/null; do
    took=$(curl -fs -o /dev/null -w '%{time_total}' http://127.0.0.1:18089/api/v1/units/25 || echo failed)
    slowest=$(python3 -c "import sys; a, b = sys.argv[1], sys.argv[2]; print(b if a == 'failed' or b == 'failed' else max(float(a), float(b)))" "$slowest" "$took")
    sleep 0.5
  done
  wait $import
  t1=$(now); served=$(python3 -c "print($t1-$t0)")
  kill -TERM $server; wait $server || true
  echo "SQLite  the same import with a server running: $(rate "$people" "$served") rows/s (${served:0:6} s) = $(ratio "$base" "$served") x baseline"
  echo "        the server's writers wait for the write lock up to ${served:0:6} s; its slowest read meanwhile (/api/v1/units/25): ${slowest} s"
  unset DATABASE_URL
fi

if [ "$which" != sqlite ]; then
  db="hocvuso_bench_$$"
  psql -Xq "$pg_admin" -c "CREATE DATABASE $db"
  url="${pg_admin%/*}/$db"
  psql -Xq "$url" -c "CREATE TABLE bare (cccd TEXT, ho_ten TEXT, ngay_sinh TEXT, gioi_tinh TEXT, ma_xa TEXT, thon TEXT, ma_ho TEXT, dan_toc TEXT, doi_tuong TEXT, dien_thoai TEXT, cap_hoc TEXT, ma_to_chuc TEXT)"
  t0=$(now)
  psql -Xq "$url" -c "\\copy bare FROM '$work/people.csv' WITH (FORMAT csv, HEADER true)"
  t1=$(now); base=$(python3 -c "print($t1-$t0)")
  export DATABASE_URL="$url"
  prepare_registry
  t0=$(now)
  "$bin" import people "$work/people.csv" > /dev/null 2>&1
  t1=$(now); ours=$(python3 -c "print($t1-$t0)")
  echo "Postgres baseline COPY (bare table):           $(rate "$people" "$base") rows/s (${base:0:6} s)"
  echo "Postgres hocvuso import people (whole command): $(rate "$people" "$ours") rows/s (${ours:0:6} s) = $(ratio "$base" "$ours") x baseline"
  psql -Xq "$pg_admin" -c "DROP DATABASE $db WITH (FORCE)"
fi
