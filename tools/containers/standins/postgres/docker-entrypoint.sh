#!/usr/bin/env bash
# Entry point of the local stand-in for the official postgres image: the same
# variables (POSTGRES_PASSWORD required, POSTGRES_USER default postgres,
# POSTGRES_DB default the user), the same first-start init of an empty
# $PGDATA, then the server as the postgres user listening on every interface.
# During init the server does not listen on TCP, so `pg_isready --host
# localhost` (the healthcheck compose and testcontainers use) answers only
# once it is really ready, as with the official image.
set -euo pipefail

if [ "${1:-}" = 'postgres' ] && [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ "${1:-}" = 'postgres' ]; then
  shift
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo 'Error: POSTGRES_PASSWORD must be set (as with the official postgres image)' >&2
      exit 1
    fi
    user="${POSTGRES_USER:-postgres}"
    db="${POSTGRES_DB:-$user}"
    pwfile="$(mktemp)"
    printf '%s' "$POSTGRES_PASSWORD" >"$pwfile"
    initdb --username="$user" --pwfile="$pwfile" --auth-local=trust --auth-host=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 -D "$PGDATA" >/dev/null
    rm -f "$pwfile"
    echo 'host all all all scram-sha-256' >>"$PGDATA/pg_hba.conf"
    if [ "$db" != 'postgres' ]; then
      echo "CREATE DATABASE \"$db\"" | postgres --single -D "$PGDATA" postgres >/dev/null
    fi
    for script in /docker-entrypoint-initdb.d/*.sh; do
      [ -e "$script" ] && bash "$script"
    done
    echo 'PostgreSQL init process complete; ready for start up.'
  fi
  exec postgres -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi

exec "$@"
