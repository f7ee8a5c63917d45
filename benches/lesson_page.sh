#!/usr/bin/env bash
# Benchmark: the lesson page for a logged-in learner, next to the same bytes served as a static file
# by the same server in the same run; 64 keep-alive connections from wrk on the same 2 cores;
# with and without gzip.
#   benches/lesson_page.sh [SECONDS] [LESSON]        (default 10 s, cai-dat-vneid of content/)
# The content (with its synthesised audio) is imported once into target/bench-content and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
lesson="${2:-cai-dat-vneid}"
. benches/common/prelude.sh
needs wrk sqlite3
cache="$PWD/target/bench-content"
export HOCVUSO_MEDIA_URL="$cache/media"
export DATABASE_URL="sqlite://$work/bench.db"
port=18181
base="http://127.0.0.1:$port"

mkdir -p "$cache"
"$bin" content import content >/dev/null 2>&1
printf 'rừng cọ đồi chè 2025\n' | "$bin" user add --login bench.hoc --role hoc_vien --unit 04792 --password-stdin >/dev/null 2>&1
"$bin" serve --listen "127.0.0.1:$port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

# Log in as a browser does: the pre-session cookie and its CSRF token, then the privacy notice.
jar="$work/cookies"
. benches/common/login.sh
browser_login "$base" "$jar" bench.hoc "rừng cọ đồi chè 2025"
session=$(awk '$6 == "hv_session" { print $7 }' "$jar")
[ -n "$session" ] || { echo "login failed"; exit 1; }

page="/bai-hoc/$lesson?phan=1"
curl -s -b "hv_session=$session" "$base$page" >"$work/lesson.html"
grep -q "Tiếp theo" "$work/lesson.html" || { echo "not the learner's lesson page"; exit 1; }
bytes=$(wc -c <"$work/lesson.html")
gz=$(curl -s -H 'Accept-Encoding: gzip' -b "hv_session=$session" "$base$page" | wc -c)
css=$(curl -s "$base/static/app.css" | wc -c)

# The same bytes as a static file of the same server: stored in its media store, served by /media/.
key="bench-lesson.html"
cp "$work/lesson.html" "$HOCVUSO_MEDIA_URL/$key"
sqlite3 "$work/bench.db" "INSERT OR REPLACE INTO media (key, content_type, size, created_at) VALUES ('$key', 'text/html; charset=utf-8', $bytes, 0)"
static="/media/$key"
[ "$(curl -s "$base$static" | wc -c)" = "$bytes" ] || { echo "static copy differs"; exit 1; }

run() { # name, path, extra header...
  local out
  out=$(wrk -t2 -c64 -d"${seconds}s" --latency "${@:3}" "$base$2")
  local rps p50
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  if grep -q "Non-2xx" <<<"$out"; then echo "$1: non-2xx answers"; echo "$out"; exit 1; fi
  printf '%-46s %12s req/s   p50 %s\n' "$1" "$rps" "$p50"
  echo "$rps" >"$work/$1.rps"
}
echo "machine: $(nproc) cores; lesson page $page: $bytes bytes ($gz gzip), style sheet $css bytes; wrk 2 threads, 64 connections, ${seconds}s"
run static-identity "$static"
run lesson-identity "$page" -H "Cookie: hv_session=$session"
run static-gzip "$static" -H "Accept-Encoding: gzip"
run lesson-gzip "$page" -H "Cookie: hv_session=$session" -H "Accept-Encoding: gzip"
for mode in identity gzip; do
  python3 -c "import sys; l,s=float(open(sys.argv[1]).read()),float(open(sys.argv[2]).read()); print(f'{sys.argv[3]}: lesson/static = {l/s:.2f}')" \
    "$work/lesson-$mode.rps" "$work/static-$mode.rps" "$mode"
done
echo "server resident memory after the run: $(ps -o rss= -p "$server" | awk '{printf "%.0f MB", $1/1024}')"
