#!/usr/bin/env bash
# Runs a command against a real PostgreSQL: `scripts/postgres.sh run CMD...`.
#
# Uses $DATABASE_URL when it points at PostgreSQL. Otherwise it makes sure a local server from Debian's package
# is running (installing the package when CI=true), creates a role for the current user, and runs CMD with
# DATABASE_URL=postgres:///notifications (Unix socket). When PostgreSQL cannot be had and CI is not set, it
# prints why and exits 0 (the PostgreSQL run is skipped); in CI that is a failure.
set -euo pipefail

db_name="${POSTGRES_DB_NAME:-notifications}"

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "postgres.sh: FAILED: $1 (PostgreSQL is required in CI)" >&2
    exit 1
  fi
  echo "postgres.sh: SKIPPED the PostgreSQL run: $1" >&2
  exit 0
}

as_postgres() {
  if [ "$(id -u)" = "0" ]; then su postgres -c "$*"; else sudo -n -u postgres bash -c "$*"; fi
}

ensure_server() {
  if pg_isready -q 2>/dev/null; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "${CI:-}" = "true" ] && [ "$(id -u)" = "0" ]; then
      echo "postgres.sh: installing PostgreSQL from Debian's package" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
        || skip_or_fail "apt-get install postgresql failed"
    else
      skip_or_fail "no PostgreSQL server reachable and none installed (apt-get install postgresql)"
    fi
  fi
  local version
  version=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1}')
  if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    pg_createcluster "$version" main >/dev/null || skip_or_fail "pg_createcluster $version main failed"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do pg_isready -q && break; sleep 1; done
  pg_isready -q || skip_or_fail "PostgreSQL $version did not start"
  local me
  me=$(id -un)
  as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$me'\" | grep -q 1 || createuser -s '$me'" \
    || skip_or_fail "cannot create a PostgreSQL role for $me"
}

[ "${1:-}" = "run" ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
shift

case "${DATABASE_URL:-}" in
  postgres://*|postgresql://*|pgsql://*) ;;
  *)
    ensure_server
    export DATABASE_URL="postgres:///${db_name}"
    ;;
esac
echo "postgres.sh: running against PostgreSQL ($(echo "$DATABASE_URL" | sed -E 's#//[^@/]*@#//***@#'))" >&2
exec "$@"
