"""The Helm chart grants and watches the consumer groups the code really uses (issue 16): each
subscription consumes as group billing.<subscription name>, so the KafkaUser ACLs (Strimzi) and the
KEDA triggers must name exactly those, not billing.<service>."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest
import yaml

from billing_events.kafka import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "billing"
SERVICES = ("registration", "coding", "invoicing", "claims", "reporting")
KUBE_VERSION = "1.35.4"  # deploy/deploy.mk DEPLOY_K8S_VERSION


def code_groups(services: Iterable[str] = SERVICES) -> dict[str, set[str]]:
    """Per service, the group ids its consumers use in production (no topic prefix)."""
    production = KafkaSettings(bootstrap_servers="kafka:9092")
    groups = {}
    for service in services:
        definition = importlib.import_module(f"{service}.entrypoints").SERVICE
        subscriptions = definition.subscriptions(MagicMock())  # names do not depend on the runtime
        groups[service] = {s.group_id(production) for s in subscriptions}
    return groups


def test_values_list_the_groups_the_code_derives() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    listed = {name: set(svc.get("consumerGroups") or []) for name, svc in values["services"].items()}
    # Every service of the chart, the five of the revenue cycle and those added since (finance, interop).
    assert set(SERVICES) <= set(listed)
    assert listed == code_groups(listed)


def helm() -> str:
    found = shutil.which("helm") or str(ROOT / ".cache" / "tools" / "bin" / "helm")
    if not Path(found).exists():
        pytest.skip("helm is not installed (make deploy-tools installs it)")
    return found


def render(values_file: str) -> list[dict[str, Any]]:
    cache = ROOT / ".cache" / "tools" / "helm"
    env = dict(
        os.environ,
        HELM_CACHE_HOME=str(cache / "cache"),
        HELM_CONFIG_HOME=str(cache / "config"),
        HELM_DATA_HOME=str(cache / "data"),
    )
    result = subprocess.run(
        [
            helm(),
            "template",
            "billing",
            str(CHART),
            "--namespace",
            "billing",
            "--kube-version",
            KUBE_VERSION,
            "-f",
            str(CHART / values_file),
        ],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_the_rendered_chart_grants_and_scales_on_exactly_those_groups() -> None:
    documents = render("values-prod.yaml")
    granted: dict[str, set[str]] = {}
    watched: dict[str, set[str]] = {}
    for doc in documents:
        service = doc["metadata"].get("labels", {}).get("billing/service")
        if doc["kind"] == "KafkaUser":
            acls = doc["spec"]["authorization"]["acls"]
            granted[service] = {a["resource"]["name"] for a in acls if a["resource"]["type"] == "group"}
        elif doc["kind"] == "ScaledObject":
            watched[service] = {t["metadata"]["consumerGroup"] for t in doc["spec"]["triggers"]}
    chart_services = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    expected = code_groups(chart_services)
    assert {s: g for s, g in granted.items() if g} == {s: g for s, g in expected.items() if g}
    assert watched == {s: g for s, g in expected.items() if g}


def test_production_pins_images_reaches_the_jwks_url_and_verifies_the_database_server() -> None:
    documents = render("values-prod.yaml")
    workloads = [doc for doc in documents if doc["kind"] == "Deployment"]
    containers = [c for w in workloads for c in w["spec"]["template"]["spec"]["containers"]]
    # Every billing image is pinned by its digest, never by a tag alone.
    assert containers and all("@sha256:" in c["image"] for c in containers if "billing" in c["image"])
    # The APIs (and only they) may reach the OIDC provider's JWKS URL (https: port 443).
    (oidc,) = [
        d for d in documents if d["kind"] == "NetworkPolicy" and d["metadata"]["name"].endswith("oidc-egress")
    ]
    assert oidc["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "api"
    assert [p["port"] for rule in oidc["spec"]["egress"] for p in rule["ports"]] == [443]
    # Every service checks the server's certificate and host name against the mounted CA.
    urls = [e["value"] for c in containers for e in c.get("env", []) if e["name"] == "DATABASE_URL"]
    assert urls and all("sslmode=verify-full&sslrootcert=/etc/billing/pg-ca/ca.crt" in u for u in urls)
    mounts = [m["mountPath"] for c in containers for m in c.get("volumeMounts", [])]
    assert mounts.count("/etc/billing/pg-ca") == len(containers)


def test_production_gives_each_service_its_own_database_role() -> None:
    documents = render("values-prod.yaml")
    values = yaml.safe_load((CHART / "values.yaml").read_text())["services"]
    (cluster,) = [d for d in documents if d["kind"] == "Cluster"]
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    databases = {d["spec"]["name"]: d["spec"]["owner"] for d in documents if d["kind"] == "Database"}
    # Every database is owned by the role named like it, and that role exists.
    assert databases and all(owner == name and owner in roles for name, owner in databases.items())
    for workload in (d for d in documents if d["kind"] == "Deployment"):
        service = workload["metadata"]["labels"].get("billing/service")
        (container,) = workload["spec"]["template"]["spec"]["containers"]
        secrets = {
            e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
        # Its own credentials, and the key store's only where it decrypts PHI.
        assert secrets["DB_USER"] == secrets["DB_PASSWORD"] == f"billing-pg-role-{service}"
        assert ("KEYS_DB_USER" in secrets) == bool(values[service].get("decryptsPhi"))
