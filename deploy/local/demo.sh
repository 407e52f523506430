#!/usr/bin/env bash
# The `demo` process of `make run`: wait for the services, seed the demo tenant, drive a modest
# workload, print where to look, then idle (honcho stops everything when any process exits).
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
billing="$root/.venv/bin/billing"
for port in 8001 8002 8003 8004 8005 8006; do
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break
    sleep 0.5
  done
done
"$billing" simulate --encounters "${DEMO_ENCOUNTERS:-40}" --tenant demo --seed 7 || echo "demo workload had failures (see above)"
"$billing" seed-finance --tenant demo --claims "${DEMO_ENCOUNTERS:-40}" || echo "the demo's books were not seeded (see above)"
manager=$("$billing" token --tenant demo --role biller --sub demo-manager)
cat <<TXT

The billing platform is running (tenant "demo"):
  registration  http://127.0.0.1:8001/docs
  coding        http://127.0.0.1:8002/docs
  invoicing     http://127.0.0.1:8003/docs
  claims        http://127.0.0.1:8004/docs
  reporting     http://127.0.0.1:8005/docs
  finance       http://127.0.0.1:8006/docs
  dashboard     http://127.0.0.1:8005/#token=$manager
  interop       http://127.0.0.1:8007/docs   (FHIR R4 under /fhir, Bulk Data at /fhir/\$export)
A token:  .venv/bin/billing token --tenant demo --role biller   (roles: front_desk coder biller auditor admin finance)
More load: .venv/bin/billing simulate --encounters 200 (add --batch 50 to send visits as an interface engine does)
Logs: this terminal and $root/.cache/logs/. Ctrl-C stops everything.
TXT
exec sleep infinity
