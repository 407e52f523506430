"""HEALTHCHECK of the billing image: GET /healthz of whatever the container runs.

Copied into the image as /usr/local/lib/billing/healthcheck.py (see deploy/Dockerfile). The port:
HEALTHCHECK_PORT if set; else, from the container's command line (PID 1):
  billing serve <service>   PORT, else the service's default port (8001..8006)
  billing consume|relay ...  METRICS_PORT, else 9100
Anything else (billing payer-simulator, billing token, ...) serves no HTTP: healthy while it runs.
Standard library only.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {
    "registration": 8001,
    "coding": 8002,
    "invoicing": 8003,
    "claims": 8004,
    "reporting": 8005,
    "finance": 8006,
    "interop": 8007,
}


def command_line() -> list[str]:
    try:
        with open("/proc/1/cmdline", "rb") as handle:
            return [part.decode(errors="replace") for part in handle.read().split(b"\0") if part]
    except OSError:
        return []


def health_port(args: list[str]) -> int | None:
    explicit = os.environ.get("HEALTHCHECK_PORT")
    if explicit:
        return int(explicit)
    for index, word in enumerate(args):
        if word == "serve":
            service = args[index + 1] if index + 1 < len(args) else ""
            return int(os.environ.get("PORT") or DEFAULT_PORTS.get(service, 8000))
        if word in ("consume", "relay"):
            return int(os.environ.get("METRICS_PORT") or 9100)
    return None


def main() -> int:
    port = health_port(command_line())
    if port is None:
        return 0
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError, ValueError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
