#!/usr/bin/env python3
"""Offline check of deploy/compose.yaml (and the collector config it mounts) without Docker.

`docker compose config` needs the compose plugin, which the development and CI machines lack, so
`make deploy-check` runs this instead (and `docker compose config` too when the plugin is there).
It does what `docker compose config` checks, as far as it can without an engine:

1. interpolates ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR:+alt}, $$ the way
   Compose does (variables from the environment; none of ours is required);
2. validates the result against the Compose Specification's JSON schema, vendored from
   compose-go (deploy/schemas/compose/compose-spec.json);
3. checks references: depends_on targets, named volumes, configs and secrets are declared, bind
   mount sources and build contexts/Dockerfiles exist, no host port is published twice;
4. checks that the OpenTelemetry collector config parses and its pipelines only use declared
   receivers, processors and exporters.

    python3 deploy/tools/check_compose.py deploy/compose.yaml

Needs PyYAML and jsonschema (`make deploy-tools` installs them into .cache/tools/python).
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "compose" / "compose-spec.json"
_VAR = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>[^}]*)\}|(?P<named>[A-Za-z_][A-Za-z0-9_]*))")
_BRACED = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>.*))?$", re.S)


class ComposeError(Exception):
    pass


def interpolate_string(value: str, env: dict[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group("escaped"):
            return "$"
        if match.group("named"):
            return env.get(match.group("named"), "")
        braced = match.group("braced")
        parsed = _BRACED.match(braced)
        if not parsed:
            raise ComposeError(f"{where}: invalid interpolation ${{{braced}}}")
        name, op, arg = parsed.group("name"), parsed.group("op"), parsed.group("arg") or ""
        is_set = name in env
        is_nonempty = bool(env.get(name))
        present = is_nonempty if op and op.startswith(":") else is_set
        if op in (":-", "-"):
            return env[name] if present else interpolate_string(arg, env, where)
        if op in (":?", "?"):
            if not present:
                raise ComposeError(f"{where}: required variable {name} is missing: {arg}")
            return env[name]
        if op in (":+", "+"):
            return interpolate_string(arg, env, where) if present else ""
        return env.get(name, "")

    return _VAR.sub(replace, value)


def interpolate(node: Any, env: dict[str, str], where: str = "") -> Any:
    if isinstance(node, dict):
        return {
            key: interpolate(value, env, f"{where}.{key}" if where else str(key))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [interpolate(item, env, f"{where}[{i}]") for i, item in enumerate(node)]
    if isinstance(node, str):
        return interpolate_string(node, env, where)
    return node


def _volume_source(entry: Any) -> tuple[str | None, str | None]:
    """(type, source) of a service volume in short or long syntax."""
    if isinstance(entry, dict):
        return entry.get("type"), entry.get("source")
    parts = str(entry).split(":")
    if len(parts) == 1:
        return "volume", None  # anonymous volume
    source = parts[0]
    if source.startswith((".", "/", "~")):
        return "bind", source
    return "volume", source


def check_references(doc: dict[str, Any], base: Path) -> list[str]:
    errors: list[str] = []
    services: dict[str, Any] = doc.get("services") or {}
    volumes = set((doc.get("volumes") or {}).keys())
    configs = doc.get("configs") or {}
    secrets = set((doc.get("secrets") or {}).keys())
    networks = set((doc.get("networks") or {}).keys()) | {"default"}
    published: dict[str, str] = {}
    for name, svc in services.items():
        depends = svc.get("depends_on") or []
        for target in depends if isinstance(depends, list) else depends.keys():
            if target not in services:
                errors.append(f"service {name}: depends_on unknown service {target}")
        for entry in svc.get("volumes") or []:
            kind, source = _volume_source(entry)
            if kind == "volume" and source and source not in volumes:
                errors.append(f"service {name}: volume {source} is not declared under volumes:")
            if kind == "bind" and source and not (base / source).exists():
                errors.append(f"service {name}: bind mount source {source} does not exist")
        for entry in svc.get("configs") or []:
            source = entry if isinstance(entry, str) else entry.get("source")
            if source not in configs:
                errors.append(f"service {name}: config {source} is not declared under configs:")
        for entry in svc.get("secrets") or []:
            source = entry if isinstance(entry, str) else entry.get("source")
            if source not in secrets:
                errors.append(f"service {name}: secret {source} is not declared under secrets:")
        svc_networks = svc.get("networks") or []
        for net in svc_networks if isinstance(svc_networks, list) else svc_networks.keys():
            if net not in networks:
                errors.append(f"service {name}: network {net} is not declared under networks:")
        build = svc.get("build")
        if build is not None:
            context = base / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
            if not context.is_dir():
                errors.append(f"service {name}: build context {context} does not exist")
            elif not (context / dockerfile).is_file():
                errors.append(f"service {name}: Dockerfile {context / dockerfile} does not exist")
        if "image" not in svc and build is None:
            errors.append(f"service {name}: needs an image or a build")
        for port in svc.get("ports") or []:
            spec = str(port.get("published", "")) if isinstance(port, dict) else str(port)
            parts = spec.split(":")
            if isinstance(port, dict) or len(parts) >= 2:
                host = spec if isinstance(port, dict) else ":".join(parts[:-1])
                if host in published:
                    errors.append(f"service {name}: host port {host} already published by {published[host]}")
                published[host] = name
    for cname, cfg in configs.items():
        if "file" in cfg and not (base / cfg["file"]).exists():
            errors.append(f"config {cname}: file {cfg['file']} does not exist")
    return errors


def check_otel(path: Path) -> list[str]:
    doc = yaml.safe_load(path.read_text())
    errors: list[str] = []
    svc = doc.get("service") or {}
    for ext in svc.get("extensions") or []:
        if ext not in (doc.get("extensions") or {}):
            errors.append(f"{path.name}: extension {ext} is not declared")
    pipelines = svc.get("pipelines") or {}
    if not pipelines:
        errors.append(f"{path.name}: no pipelines")
    for pname, pipe in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            for component in pipe.get(kind) or []:
                if component not in (doc.get(kind) or {}):
                    errors.append(f"{path.name}: pipeline {pname} uses undeclared {kind[:-1]} {component}")
        if not pipe.get("receivers") or not pipe.get("exporters"):
            errors.append(f"{path.name}: pipeline {pname} needs receivers and exporters")
    return errors


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = Path(argv[1])
    base = path.resolve().parent
    raw = yaml.safe_load(path.read_text())
    # x- extension fields are free-form (anchors) and Compose drops them from the model.
    try:
        doc = interpolate(raw, dict(os.environ))
    except ComposeError as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return 1
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = [
        f"{path}: {'/'.join(str(p) for p in err.absolute_path) or '<root>'}: {err.message}"
        for err in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]
    errors += [f"{path}: {message}" for message in check_references(doc, base)]
    for svc in (doc.get("services") or {}).values():
        for entry in svc.get("volumes") or []:
            kind, source = _volume_source(entry)
            if kind == "bind" and source and source.endswith("otel-collector.yaml"):
                errors += check_otel(base / source)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        return 1
    services = doc.get("services") or {}
    print(f"{path}: valid ({len(services)} services, {len(doc.get('volumes') or {})} volumes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
