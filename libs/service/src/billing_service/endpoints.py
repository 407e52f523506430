"""Where the platform's services listen: the base URLs that clients (the demo, the end-to-end
harness, the load driver) use, overridable per service by environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoints:
    registration: str = os.environ.get("REGISTRATION_URL", "http://127.0.0.1:8001")
    coding: str = os.environ.get("CODING_URL", "http://127.0.0.1:8002")
    invoicing: str = os.environ.get("INVOICING_URL", "http://127.0.0.1:8003")
    claims: str = os.environ.get("CLAIMS_URL", "http://127.0.0.1:8004")
    reporting: str = os.environ.get("REPORTING_URL", "http://127.0.0.1:8005")
    finance: str = os.environ.get("FINANCE_URL", "http://127.0.0.1:8006")
