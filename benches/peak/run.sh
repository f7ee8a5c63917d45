#!/usr/bin/env bash
# The 10/10 peak day, measured (issue 25): virtual learners, staff and teams (benches/peak, goose)
# against `hocvuso serve`, and in the same run the baseline: nginx serving a static copy of a lesson
# page of the same bytes, under the same users and think times.
#
#   HOCVUSO_BIN=target/release/hocvuso benches/peak/run.sh PEOPLE USERS SECONDS [sqlite|postgres] [SERVERS]
#
#   PEOPLE   people in the registry (4000000 is the province), prepared by `hocvuso demo --people`
#            (generate + import, the curriculum, one account per role, the movement's certificates
#            and teams); USERS simultaneous virtual users (mix.toml's shares); SECONDS of load after
#            all users have started; SERVERS (default 1): with 2 or more, that many `hocvuso serve`
#            processes on one PostgreSQL behind nginx (benches/peak/nginx-upstream.conf).
#
# Environment (all optional but HOCVUSO_BIN):
#   HOCVUSO_BIN             the release binary (build it with `cargo build --release`)
#   PEAK_HARNESS            a built harness binary (default: built here with --release)
#   PEAK_POSTGRES_ADMIN_URL where to create the database `hocvuso_peak` (default postgres://postgres@127.0.0.1:5432/postgres)
#   PEAK_HATCH_RATE         users started per second (default: all within ~60 s)
#   PEAK_THINK_SCALE        think times × this (default 1; 0 = no think time: the ceiling)
#   PEAK_USERS_PER_ADDRESS  virtual users sharing one client address (default 1; see main.rs)
#   PEAK_MEDIA              the media folder (default target/peak/media, kept across runs)
#   PEAK_FRESH=1            prepare the database anew instead of copying the kept one
#   PEAK_PREPARE_ONLY=1     prepare (or copy) the database and keep it, then stop: no load
#   PEAK_HTML=1             write goose's HTML report too (minutes of the harness's CPU at 10,000 users)
#   PEAK_KEEP=1             keep the work folder (database, logs, goose's HTML report)
#   PEAK_SKIP_BASELINE=1    no nginx baseline
#   PEAK_VNEID=0            no VNeID logins (default: the test provider of tests/oidc runs, and
#                           mix.toml's vneid_share of learners log in through it)
#   PEAK_PIN=1              pin the server(s) to core 0 and the load generator to core 1 (taskset)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
people="${1:-20000}"
users="${2:-200}"
seconds="${3:-60}"
backend="${4:-sqlite}"
servers="${5:-1}"
bin="${HOCVUSO_BIN:?set HOCVUSO_BIN to the release binary, e.g. HOCVUSO_BIN=\$PWD/target/release/hocvuso}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
hatch="${PEAK_HATCH_RATE:-$(( users / 60 + 1 ))}"
learners=$(( users * 4 + 100 ))
[ "$servers" -gt 1 ] && [ "$backend" != postgres ] && { echo "several servers need PostgreSQL (one SQLite file is one server's)"; exit 2; }

for tool in nginx sqlite3; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq nginx sqlite3 >/dev/null; }
done

harness="${PEAK_HARNESS:-}"
if [ -z "$harness" ]; then
  export CARGO_TARGET_DIR="${PEAK_TARGET_DIR:-$root/target/peak}"
  nice -n 10 cargo build --release --locked -q --manifest-path "$here/Cargo.toml"
  harness="$CARGO_TARGET_DIR/release/hocvuso-peak"
fi

work="$(mktemp -d /tmp/hocvuso-peak.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/nginx-static.pid" ] && kill "$(cat "$work/nginx-static.pid")" 2>/dev/null || true
  if [ "${PEAK_KEEP:-}" = 1 ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export HOCVUSO_DATA_KEY=6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
# The media store is content-addressed: one folder kept across runs spares synthesising every
# lesson's audio again (minutes) at each preparation.
export HOCVUSO_MEDIA_URL="${PEAK_MEDIA:-$root/target/peak/media}"
mkdir -p "$HOCVUSO_MEDIA_URL"
# The harness plays phones behind a proxy: the loopback is trusted to name the client (X-Forwarded-For),
# so every per-address limit (logins, public lookups) applies per virtual client address.
export HOCVUSO_TRUSTED_PROXIES="127.0.0.1"
export RUST_LOG="${RUST_LOG:-hocvuso=warn}"
if [ "$backend" = postgres ]; then
  admin="${PEAK_POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  psql -q "$admin" -c "DROP DATABASE IF EXISTS hocvuso_peak" -c "CREATE DATABASE hocvuso_peak" >/dev/null
  export DATABASE_URL="${admin%/*}/hocvuso_peak"
  sql() { psql -qAt "$DATABASE_URL" -c "$1"; }
else
  export DATABASE_URL="sqlite://$work/hocvuso.db"
  sql() { sqlite3 "$work/hocvuso.db" "$1"; }
fi
now() { date +%s.%N; }
since() { python3 -c "import sys, time; print(f'{time.time() - float(sys.argv[1]):.1f}')" "$1"; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "run: $people people, $users virtual users (hatch $hatch/s), $seconds s, $backend, $servers server(s), think × ${PEAK_THINK_SCALE:-1}"

# 1. The database: registry, curriculum, demo accounts, the movement's certificates, teams.
# The prepared database is kept (PostgreSQL: the template database hocvuso_peak_t_PEOPLE_LEARNERS;
# SQLite: target/peak/hocvuso_peak_t_PEOPLE_LEARNERS.db) and later runs copy it (seconds) instead of
# preparing again (minutes); PEAK_FRESH=1 prepares anew.
learner_password="rừng cọ đồi chè 2025"
template="hocvuso_peak_t_${people}_${learners}"
# The demo's log holds its accounts' passwords: one per backend, each prepared with its own.
saved_log="$root/target/peak/$template.$backend.demo.log"
if [ "$backend" = postgres ] && [ "${PEAK_FRESH:-}" != 1 ] && [ -f "$saved_log" ] \
  && [ "$(psql -qAt "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$template'")" = 1 ]; then
  psql -q "$admin" -c "DROP DATABASE hocvuso_peak" -c "CREATE DATABASE hocvuso_peak TEMPLATE $template" >/dev/null
  cp "$saved_log" "$work/demo.log"
  echo "prepared: a copy of $template (made by \`hocvuso demo --people $people\` in an earlier run)"
  prepared=1
elif [ "$backend" = sqlite ] && [ "${PEAK_FRESH:-}" != 1 ] && [ -f "$saved_log" ] && [ -f "$root/target/peak/$template.db" ]; then
  cp "$root/target/peak/$template.db" "$work/hocvuso.db"
  cp "$saved_log" "$work/demo.log"
  echo "prepared: a copy of target/peak/$template.db (made by \`hocvuso demo --people $people\` in an earlier run)"
  prepared=1
else
  prepared=0
fi
password_of() { awk -v l="$1" '$2 == l { print $NF }' "$work/demo.log"; }
if [ "$prepared" = 0 ]; then
  t0=$(now)
  "$bin" demo --people "$people" --seed 25 --no-serve --content "$root/content" 2>"$work/demo.log" >/dev/null \
    || { tail -20 "$work/demo.log"; exit 1; }
  echo "prepared by \`hocvuso demo --people $people\` in $(since "$t0") s (not the subject)"
fi
commune=$(sed -n 's/.*demo accounts, one per role, in \([0-9]*\):.*/\1/p' "$work/demo.log")
[ -n "$commune" ] || { echo "the demo printed no accounts"; tail -20 "$work/demo.log"; exit 1; }

# Learner accounts: one made by `hocvuso user add` (argon2id hash of its password), cloned in SQL so
# that thousands exist in seconds; every clone logs in through the same password check.
if [ "$prepared" = 0 ]; then
  printf '%s\n' "$learner_password" | "$bin" user add --login peak.hv0 --role hoc_vien --unit "$commune" --password-stdin >/dev/null 2>&1
  sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $learners - 1)
       INSERT INTO account (id, login, password_hash, must_change_password, display_name, created_at)
       SELECT 'peak-hv-' || i, 'peak.hv' || i, a.password_hash, a.must_change_password, a.display_name, a.created_at
       FROM n, account a WHERE a.login = 'peak.hv0'" >/dev/null
  sql "INSERT INTO role_grant (account_id, role, unit_code, granted_at)
       SELECT a.id, g.role, g.unit_code, g.granted_at FROM account a, role_grant g JOIN account t ON t.id = g.account_id
       WHERE t.login = 'peak.hv0' AND a.login LIKE 'peak.hv%' AND a.login <> 'peak.hv0'" >/dev/null
  mkdir -p "$(dirname "$saved_log")"
  if [ "$backend" = postgres ]; then
    psql -q "$admin" -c "DROP DATABASE IF EXISTS $template" -c "CREATE DATABASE $template TEMPLATE hocvuso_peak" >/dev/null
  else
    sqlite3 "$work/hocvuso.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
    # Nothing more is run on the work copy when only preparing: moved, not copied (26 GB at 4,000,000 people).
    if [ "${PEAK_PREPARE_ONLY:-}" = 1 ]; then mv "$work/hocvuso.db" "$root/target/peak/$template.db"
    else cp "$work/hocvuso.db" "$root/target/peak/$template.db"; fi
  fi
  cp "$work/demo.log" "$saved_log"
fi
[ "${PEAK_PREPARE_ONLY:-}" = 1 ] && { echo "prepared and kept; PEAK_PREPARE_ONLY=1: no load"; exit 0; }

# Staff and team members have an account each, as on the day: one shared login would be slowed by
# the per-account login delay (src/identity/throttle.rs lets one attempt through at a time). Clones
# of the demo's province administrator (peak.qtN), commune officer (peak.cbN) and team member
# (peak.toN, in the demo member's teams), with its password and grants; made once per database.
staff_accounts=$(( users / 10 + 10 ))
clone() { # prefix, demo login
  sql "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $staff_accounts)
       INSERT INTO account (id, login, password_hash, must_change_password, display_name, created_at)
       SELECT 'peak-$1-' || i, 'peak.$1' || i, a.password_hash, a.must_change_password, a.display_name, a.created_at
       FROM n, account a WHERE a.login = '$2'
       AND NOT EXISTS (SELECT 1 FROM account x WHERE x.login = 'peak.$1' || i)" >/dev/null
  sql "INSERT INTO role_grant (account_id, role, unit_code, organisation_code, granted_at)
       SELECT a.id, g.role, g.unit_code, g.organisation_code, g.granted_at FROM account a, role_grant g
       JOIN account t ON t.id = g.account_id WHERE t.login = '$2' AND a.login LIKE 'peak.$1%'
       AND NOT EXISTS (SELECT 1 FROM role_grant x WHERE x.account_id = a.id)" >/dev/null
}
clone qt demo.quan-tri-tinh
clone cb demo.can-bo-xa
clone to demo.to-cong-nghe-so
sql "INSERT INTO tech_team_member (team_id, account_id)
     SELECT m.team_id, a.id FROM tech_team_member m JOIN account t ON t.id = m.account_id, account a
     WHERE t.login = 'demo.to-cong-nghe-so' AND a.login LIKE 'peak.to%'
     AND NOT EXISTS (SELECT 1 FROM tech_team_member x WHERE x.account_id = a.id)" >/dev/null
echo "accounts: $(sql "SELECT count(*) FROM account WHERE login LIKE 'peak.hv%'") learners in commune $commune; certificates: $(sql "SELECT count(*) FROM certificate")"
sql "SELECT id FROM certificate ORDER BY issued_at DESC LIMIT 5000" >"$work/certificates.txt"

# 2. The server(s), and nginx in front when there are several.
base_port=18300
start_server() { # n
  local port=$(( base_port + $1 ))
  local pin=()
  [ "${PEAK_PIN:-}" = 1 ] && pin=(taskset -c 0)
  "${pin[@]}" "$bin" serve --listen "127.0.0.1:$port" >"$work/serve-$1.log" 2>&1 &
  pids+=($!)
  echo $! >"$work/server-$1.pid"
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.1; done
  echo "server $1 did not start"; tail "$work/serve-$1.log"; exit 1
}
# The address the virtual users see: nginx in front of several servers, else the one server.
if [ "$servers" -gt 1 ]; then base="http://127.0.0.1:18380"; else base="http://127.0.0.1:$(( base_port + 1 ))"; fi
export HOCVUSO_PUBLIC_URL="$base"

# VNeID: the project's test provider (tests/oidc, a real OpenID provider on Node.js), for the
# share of learners who log in through it (mix.toml's vneid_share). PEAK_VNEID=0 leaves it out.
vneid=0
if [ "${PEAK_VNEID:-1}" = 1 ]; then
  [ -d "$root/tests/oidc/node_modules/oidc-provider" ] || (cd "$root/tests/oidc" && npm ci --no-audit --no-fund --loglevel=error)
  node "$root/tests/oidc/provider.mjs" --port 0 --client-id hocvuso --client-secret peak-secret \
    --redirect-uri "$base/dang-nhap/vneid/callback" --ignore-stdin >"$work/oidc.out" 2>"$work/oidc.log" &
  pids+=($!)
  for _ in $(seq 150); do grep -q '^READY' "$work/oidc.out" 2>/dev/null && break; sleep 0.1; done
  issuer=$(sed -n 's/^READY {"issuer":"\(.*\)"}$/\1/p' "$work/oidc.out")
  [ -n "$issuer" ] || { echo "the VNeID test provider did not start"; tail "$work/oidc.log"; exit 1; }
  export HOCVUSO_OIDC_ISSUER="$issuer" HOCVUSO_OIDC_CLIENT_ID=hocvuso HOCVUSO_OIDC_CLIENT_SECRET=peak-secret
  vneid=1
fi

for n in $(seq 1 "$servers"); do start_server "$n"; done
if [ "$servers" -gt 1 ]; then
  upstreams=""
  for n in $(seq 1 "$servers"); do upstreams+="    server 127.0.0.1:$(( base_port + n )) max_fails=0;"$'\n'; done
  port=18380
  python3 - "$here/nginx-upstream.conf" "$work/nginx.conf" "$work" "$port" "$upstreams" <<'PY'
import sys
src, dst, work, port, upstreams = sys.argv[1:]
text = open(src).read().replace("@WORK@", work).replace("@PORT@", port).replace("@UPSTREAMS@", upstreams)
open(dst, "w").write(text)
PY
  nginx -c "$work/nginx.conf" -p "$work"
fi

# 3. The baseline's page: a learner's lesson page as the server sends it, copied for nginx.
jar="$work/cookies"
. "$root/benches/common/login.sh"
browser_login "$base" "$jar" peak.hv0 "$learner_password"
mkdir -p "$work/static"
# nginx's workers run as www-data: the work folder is mktemp's 0700 (403 Forbidden otherwise).
chmod 755 "$work" "$work/static"
curl -s -b "$jar" "$base/bai-hoc/cai-dat-vneid?phan=1" >"$work/static/lesson.html"
grep -q "Tiếp theo" "$work/static/lesson.html" || { echo "could not fetch a learner's lesson page"; exit 1; }
echo "lesson page for the baseline: $(wc -c <"$work/static/lesson.html") bytes"

cpu_of() { # pids… → their user+system CPU seconds (children included)
  local total=0
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$(awk -v t="$total" -v hz="$(getconf CLK_TCK)" '{ print t + ($14 + $15 + $16 + $17) / hz }' "/proc/$p/stat")
  done
  echo "$total"
}
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat; }
postgres_pids() { pgrep -x postgres || true; }
pg_stats() {
  psql -qAt "$DATABASE_URL" -c "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated,
    tup_deleted, blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
}

run_harness() { # label, host, extra env…
  local label="$1" host="$2"
  shift 2
  local server_pids=()
  for n in $(seq 1 "$servers"); do server_pids+=("$(cat "$work/server-$n.pid")"); done
  [ "$label" = baseline ] && server_pids=($(cat "$work/nginx-static.pid") $(pgrep -P "$(cat "$work/nginx-static.pid")"))
  local pg0=0 pg1=0
  [ "$backend" = postgres ] && [ "$label" != baseline ] && pg_stats >"$work/pg-before.txt"
  # nginx's static users have no login to spread out: they all start within ~20 s.
  local rate="$hatch"
  [ "$label" = baseline ] && rate=$(( users / 20 + 1 ))
  local s0; s0=$(cpu_of "${server_pids[@]}")
  [ "$backend" = postgres ] && pg0=$(cpu_of $(postgres_pids))
  local m0; m0=$(machine_busy)
  local t0; t0=$(now)
  local pin=()
  [ "${PEAK_PIN:-}" = 1 ] && pin=(taskset -c 1)
  # goose makes every virtual user's HTTP client before the first starts (10,000 at 10,000 users),
  # and each client's OpenSSL context loads the system's root certificates: gigabytes and minutes of
  # the load generator's CPU for a plain-HTTP run. An empty certificate store instead.
  : >"$work/no-roots.pem"
  mkdir -p "$work/no-roots"
  env "$@" SSL_CERT_FILE="$work/no-roots.pem" SSL_CERT_DIR="$work/no-roots" PEAK_USERS="$users" PEAK_RUN_SECONDS="$seconds" PEAK_SUMMARY="$work/$label.txt" PEAK_MIX="${PEAK_MIX:-$here/mix.toml}" \
    "${pin[@]}" "$harness" --host "$host" --users "$users" --hatch-rate "$rate" --run-time "${seconds}s" \
    ${PEAK_HTML:+--report-file "$work/$label.html"} --quiet --no-reset-metrics >"$work/$label.log" 2>&1 \
    || { echo "the harness failed ($label):"; tail -20 "$work/$label.log"; exit 1; }
  local wall; wall=$(since "$t0")
  local s1; s1=$(cpu_of "${server_pids[@]}")
  [ "$backend" = postgres ] && [ "$label" != baseline ] && pg1=$(cpu_of $(postgres_pids))
  local m1; m1=$(machine_busy)
  echo
  echo "== $label: $host =="
  cat "$work/$label.txt"
  python3 - "$s0" "$s1" "$wall" "$m0" "$m1" "$pg0" "$pg1" "$label" <<'PY'
import sys
s0, s1, wall = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
m0, m1 = [float(x) for x in sys.argv[4].split()], [float(x) for x in sys.argv[5].split()]
pg0, pg1 = float(sys.argv[6]), float(sys.argv[7])
busy, idle = m1[0] - m0[0], m1[1] - m0[1]
who = "nginx" if sys.argv[8] == "baseline" else "hocvuso server(s)"
print(f"{who}: {s1 - s0:.1f} CPU s in {wall:.0f} s wall = {(s1 - s0) / wall:.2f} cores"
      + (f"; PostgreSQL: {(pg1 - pg0) / wall:.2f} cores" if pg1 > 0 else "")
      + f"; whole machine busy {100 * busy / max(busy + idle, 1):.0f} % (harness included)")
PY
  if [ "$backend" = postgres ] && [ "$label" != baseline ]; then
    sleep 2 # backends flush their statistics within a second or so
    pg_stats >"$work/pg-after.txt"
    python3 - "$work/pg-before.txt" "$work/pg-after.txt" "$work/$label.txt" <<'PY'
import re, sys
names = ["transactions", "rows returned", "rows fetched", "rows inserted", "rows updated", "rows deleted", "blocks hit", "blocks read"]
before = [int(x) for x in open(sys.argv[1]).read().split("|")]
after = [int(x) for x in open(sys.argv[2]).read().split("|")]
requests = int(re.search(r"all requests: (\d+)", open(sys.argv[3]).read()).group(1)) or 1
print("PostgreSQL work per request (pg_stat_database, all requests of the run): "
      + ", ".join(f"{n} {(a - b) / requests:.2f}" for n, b, a in zip(names, before, after)))
PY
  fi
  if [ "$label" != baseline ]; then
    for p in "${server_pids[@]}"; do
      awk '/VmHWM|VmRSS/ { printf "%s %.0f MB  ", $1, $2 / 1024 } END { print "" }' "/proc/$p/status" | sed "s/^/server $p: /"
    done
  fi
}

run_harness site "$base" \
  PEAK_VNEID="$vneid" PEAK_LEARNERS="$learners" PEAK_LEARNER_PREFIX=peak.hv PEAK_LEARNER_PASSWORD="$learner_password" \
  PEAK_STAFF_ACCOUNTS="$staff_accounts" \
  PEAK_STAFF_LOGIN=peak.qt PEAK_STAFF_PASSWORD="$(password_of demo.quan-tri-tinh)" \
  PEAK_OFFICER_LOGIN=peak.cb PEAK_OFFICER_PASSWORD="$(password_of demo.can-bo-xa)" PEAK_COMMUNE="$commune" \
  PEAK_TEAM_LOGIN=peak.to PEAK_TEAM_PASSWORD="$(password_of demo.to-cong-nghe-so)" \
  PEAK_CERTIFICATES="$work/certificates.txt"
echo "database after the run: $(sql "SELECT count(*) FROM progress") progress rows, $(sql "SELECT count(*) FROM sitting") sittings, $(sql "SELECT count(*) FROM team_visit") team visits"
for n in $(seq 1 "$servers"); do
  { grep -c '"level":"ERROR"\|ERROR' "$work/serve-$n.log" || true; } | sed "s/^/server $n log lines with ERROR: /"
done

# 4. The baseline in the same run: nginx, the same users and think times, the static copy.
if [ "${PEAK_SKIP_BASELINE:-}" != 1 ]; then
  static_port=18390
  cat >"$work/nginx-static.conf" <<EOF
worker_processes auto;
pid $work/nginx-static.pid;
error_log $work/nginx-static-error.log;
events { worker_connections 65536; }
http {
  access_log off;
  default_type text/html;
  sendfile on;
  keepalive_requests 1000000;
  gzip on;
  server { listen 127.0.0.1:$static_port; root $work/static; }
}
EOF
  nginx -c "$work/nginx-static.conf" -p "$work"
  sleep 0.5
  run_harness baseline "http://127.0.0.1:$static_port" PEAK_MODE=static PEAK_STATIC_PATH=/lesson.html
fi
