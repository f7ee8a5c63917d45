# Sourced by the benches' scripts, after `cd` to the project's root: what each harness starts with.
#   needs DEBIAN_PACKAGE...   installs the Debian packages whose commands are missing (command = package name,
#                             except sqlite3's shell, package sqlite3, and wrk)
# Then it builds the release binary with the benches (one build for every harness and `cargo bench`:
# dev-dependencies unify features), and sets:
#   bin      the binary (HOCVUSO_BIN if set)
#   work     a new temporary folder, removed at exit, with the server `$server` (if a script started one)
#            stopped and every command given to `at_exit` run first
#   HOCVUSO_DATA_KEY   the benches' fixed data key
# and offers:
#   generate_roster PEOPLE    the generated tree, organisations and PEOPLE people (seed 20) in $work
#   new_registry BACKEND [DB] a new registry with that tree and those organisations, DATABASE_URL set to it:
#                             sqlite, $work/r.db; postgres, the database DB made anew on $pg_admin
needs() {
  local missing=() command
  for command in "$@"; do command -v "$command" >/dev/null || missing+=("$command"); done
  if ((${#missing[@]})); then apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null; fi
}

cargo build --release --locked -q --bins --benches
bin="${HOCVUSO_BIN:-$PWD/target/release/hocvuso}"
work="$(mktemp -d /tmp/hocvuso-bench.XXXXXX)"
server=""
exit_steps=()
at_exit() { exit_steps+=("$1"); }
bench_cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
  local step
  for step in "${exit_steps[@]}"; do eval "$step" 2>/dev/null || true; done
  rm -rf "$work"
}
trap bench_cleanup EXIT
export HOCVUSO_DATA_KEY=6b1f0c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d

pg_admin="${HOCVUSO_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

generate_roster() {
  "$bin" generate units --seed 20 --out "$work/units.csv" 2>/dev/null
  "$bin" generate organisations --seed 20 --out "$work/orgs.csv" 2>/dev/null
  "$bin" generate people --count "$1" --seed 20 --out "$work/people.csv" 2>/dev/null
}

new_registry() {
  if [ "$1" = sqlite ]; then
    rm -f "$work"/r.db*
    export DATABASE_URL="sqlite://$work/r.db"
  else
    PGOPTIONS="-c client_min_messages=warning" psql -Xq "$pg_admin" -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2"
    export DATABASE_URL="${pg_admin%/*}/$2"
  fi
  "$bin" migrate >/dev/null 2>&1
  "$bin" import units "$work/units.csv" >/dev/null 2>&1
  "$bin" import organisations "$work/orgs.csv" >/dev/null 2>&1
}
