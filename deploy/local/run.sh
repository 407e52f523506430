#!/usr/bin/env bash
# `make run`: bring the local infrastructure up and keep the platform in the foreground; Ctrl-C stops
# everything this call started.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
started=$(mktemp)
cleanup() { echo; python3 "$here/infra.py" down --started-file "$started"; rm -f "$started"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
endpoints=$(python3 "$here/infra.py" up --started-file "$started") || exit 1
while IFS= read -r line; do [ -n "$line" ] && export "$line"; done <<<"$endpoints"
echo "Local infrastructure is up:"
echo "$endpoints" | sed 's/^/  /'
echo "  logs: $root/.cache/logs/"
export BILLING_DATABASE_SERVER_URL="$DATABASE_URL"
# Each service runs as its own database role, owner of its database and the only one that may connect
# (created at start from the administrator's URL above); BILLING_DATABASE_ROLES=0 runs all as that one.
export BILLING_DATABASE_ROLES="${BILLING_DATABASE_ROLES:-1}"
# Development keys (JWT pair, PHI master key) generated under .cache/; production gives explicit keys.
export BILLING_DEVELOPMENT="${BILLING_DEVELOPMENT:-1}"
export CLEARINGHOUSE_DIR="${CLEARINGHOUSE_DIR:-$root/.cache/clearinghouse}"
mkdir -p "$CLEARINGHOUSE_DIR/outbound" "$CLEARINGHOUSE_DIR/inbound"
if [ -f "$root/Procfile" ]; then
  exec_cmd=("$root/.venv/bin/honcho" -f "$root/Procfile" -d "$root" start)
  "${exec_cmd[@]}"
else
  echo "The services are not built yet: only Kafka and PostgreSQL run. Ctrl-C stops them."
  while true; do sleep 3600; done
fi
