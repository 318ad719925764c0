#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the tests and prints the line to export:
#   eval "$(bash scripts/postgres-cluster.sh start)"   # sets SHIPLOG_TEST_POSTGRES_URL (and _DIR)
#   bash scripts/postgres-cluster.sh stop "$SHIPLOG_TEST_POSTGRES_DIR"
# Debian's `postgresql` package provides initdb and pg_ctl (under /usr/lib/postgresql/*/bin).
# The cluster lives in a temporary folder, listens on a free loopback port and its Unix
# socket in that folder, and trusts local connections (it holds nothing but test data).
set -euo pipefail

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
  run_as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300 -c fsync=on\" start >/dev/null"
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
