# Source this file to start a throwaway PostgreSQL server for the quiz store's tests (tests/test_quiz_store.py)
# and export PHENOFACE_TEST_POSTGRES_URL; it stops and is deleted when the shell that sourced it exits.
# Uses Debian's postgresql package (installed by .ci/run); as root, the server runs as the postgres user.
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$PG_BIN" ]; then
  echo "CI: no PostgreSQL found in /usr/lib/postgresql; install Debian's postgresql package" >&2
  return 1 2>/dev/null || exit 1
fi
PG_DIR="$(mktemp -d /tmp/phenoface-pg.XXXXXX)"
PG_PORT="${PG_PORT:-54329}"
if [ "$(id -u)" = 0 ]; then
  chown postgres "$PG_DIR"
  PG_AS=(runuser -u postgres --)
else
  PG_AS=()
fi
"${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U phenoface --no-sync >/dev/null
"${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U phenoface phenoface_test
phenoface_pg_stop() {
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap phenoface_pg_stop EXIT
export PHENOFACE_TEST_POSTGRES_URL="postgresql+psycopg://phenoface@127.0.0.1:$PG_PORT/phenoface_test"
echo "CI: PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') for the tests at $PHENOFACE_TEST_POSTGRES_URL"
