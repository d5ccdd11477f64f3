# Sourced by .ci/run (and usable by hand: `source .ci/postgres.sh`): starts a
# throwaway PostgreSQL cluster for the tests and exports
# HUBSYNC_TEST_POSTGRES_URL and HUBSYNC_TEST_POSTGRES_PASSWORD. The cluster
# lives in a temp folder, runs as an unprivileged user (the server refuses
# root) on a free loopback port, and is stopped and removed at exit.

pg_bin() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && { echo "$d"; return; }
    done
    command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

if [ -z "$(pg_bin)" ]; then
    echo "installing postgresql"
    (apt-get update -qq && apt-get install -y -qq postgresql) >/dev/null
fi
PG_BIN="$(pg_bin)"

# The server's user: the current one unless that is root.
PG_USER="$(id -un)"
if [ "$(id -u)" = 0 ]; then
    PG_USER=hubsync-pg
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home "$PG_USER"
fi
as_pg() {
    if [ "$(id -un)" = "$PG_USER" ]; then "$@"; else runuser -u "$PG_USER" -- "$@"; fi
}

PG_DIR="$(mktemp -d /tmp/hubsync-pg.XXXXXX)"
chown "$PG_USER" "$PG_DIR"
chmod 700 "$PG_DIR"
PG_PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    shuf -i 20000-60000 -n 1)"
PG_PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
printf '%s\n' "$PG_PASSWORD" >"$PG_DIR/pwfile"
chown "$PG_USER" "$PG_DIR/pwfile"

as_pg "$PG_BIN/initdb" -D "$PG_DIR/data" -U hubsync --pwfile="$PG_DIR/pwfile" \
    --auth=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
    { cat "$PG_DIR/initdb.log"; exit 1; }
rm -f "$PG_DIR/pwfile"
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off" start >/dev/null ||
    { cat "$PG_DIR/server.log"; exit 1; }

stop_postgres() {
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT

export HUBSYNC_TEST_POSTGRES_URL="postgres://hubsync@127.0.0.1:$PG_PORT/postgres?sslmode=disable"
export HUBSYNC_TEST_POSTGRES_PASSWORD="$PG_PASSWORD"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') for the tests on 127.0.0.1:$PG_PORT"
