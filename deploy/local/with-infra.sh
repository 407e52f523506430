#!/usr/bin/env bash
# Run a command with the local Kafka and PostgreSQL up and their endpoints exported; afterwards stop
# only what this call started (servers that were already running, or given by the environment, stay).
set -u
here=$(cd "$(dirname "$0")" && pwd)
started=$(mktemp)
cleanup() { python3 "$here/infra.py" down --started-file "$started"; rm -f "$started"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
endpoints=$(python3 "$here/infra.py" up --started-file "$started") || exit 1
while IFS= read -r line; do [ -n "$line" ] && export "$line"; done <<<"$endpoints"
"$@"
