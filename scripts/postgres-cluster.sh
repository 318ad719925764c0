#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints the line to export:
#   eval "$(bash scripts/postgres-cluster.sh start)"   # sets SHIPLOG_TEST_POSTGRES_URL (and _DIR)
#   bash scripts/postgres-cluster.sh stop "$SHIPLOG_TEST_POSTGRES_DIR"
# Debian's `postgresql` package provides initdb and pg_ctl (under /usr/lib/postgresql/*/bin).
# The cluster lives in a temporary folder, listens on a free loopback port and its Unix
# socket in that folder, and trusts local connections (it holds nothing but test data).
set -euo pipefail
# The server outlives this script: keep it from inheriting any descriptor but 0-2 (a caller
# waiting for a pipe of its own to close would otherwise wait for the server to stop).
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi

run_as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$*"
  else
    bash -c "$*"
  fi
}

case "${1:-}" in
start)
  dir=$(mktemp -d /tmp/shiplog-pg.XXXXXX)
  chmod 755 "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  run_as_postgres "'$bin/initdb' -D '$dir/data' -U postgres --auth=trust -E UTF8 --no-locale >'$dir/initdb.log' 2>&1"
  # In the cluster's configuration, so that a test that stops the server can start it again
  # with `pg_ctl -D DIR/data -l DIR/server.log start`.
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nmax_connections = 300\n" "$port" "$dir" \
    >>"$dir/data/postgresql.conf"
  run_as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w start >/dev/null"
  echo "export SHIPLOG_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable SHIPLOG_TEST_POSTGRES_DIR=$dir SHIPLOG_TEST_POSTGRES_BIN=$bin"
  ;;
stop)
  dir=${2:?the cluster folder}
  run_as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast stop >/dev/null" || true
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start | stop DIR" >&2
  exit 2
  ;;
esac
