"""JSON Schemas of the contracts, for consumers that have only a Kafka client.

    python -m billing_events.contracts.schemas --write    regenerate libs/events/schemas/
    python -m billing_events.contracts.schemas --check    fail on a stale schema or a breaking change

The checked-in schemas are the published contract. A change that removes or retypes a field, or makes
a field required that was not, breaks consumers: --write refuses it; publish a new version instead
(a new contract class with version=N+1 and an upcaster from N).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from billing_events.contracts.base import Event, registered

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


def schema_of(contract: type[Event]) -> dict[str, Any]:
    schema = contract.model_json_schema(mode="serialization")
    schema["$id"] = (
        f"https://billing.example/schemas/{contract.service}/{contract.event_type}.v{contract.version}.json"
    )
    schema["x-ce-type"] = contract.ce_type()
    schema["x-topic"] = contract.topic()
    schema["x-subject"] = contract.subject_field
    return schema


def schema_path(contract: type[Event], root: Path = SCHEMA_DIR) -> Path:
    return root / contract.service / f"{contract.event_type}.v{contract.version}.json"


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        return dict(schema.get("$defs", {})[ref.split("/")[-1]])
    return node


def _types(schema: dict[str, Any], node: dict[str, Any]) -> set[str]:
    """The JSON types a property may take (following refs and anyOf)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return set().union(*(_types(schema, option) for option in node["anyOf"]))
    kind = node.get("type")
    if isinstance(kind, list):
        return set(kind)
    if kind:
        return {kind}
    if "enum" in node or "const" in node:
        return {"string"}
    return {"object"} if "properties" in node else {"any"}


def breaking_changes(published: dict[str, Any], current: dict[str, Any], path: str = "") -> list[str]:
    """What would break a consumer reading `current` payloads with code written for `published`."""
    problems: list[str] = []
    old_props: dict[str, Any] = published.get("properties", {})
    new_props: dict[str, Any] = current.get("properties", {})
    old_required = set(published.get("required", []))
    new_required = set(current.get("required", []))
    for name, old in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed")
            continue
        old_types, new_types = _types(published, old), _types(current, new_props[name])
        if not new_types <= old_types | {"any"} and "any" not in old_types:
            problems.append(f"{where}: type {sorted(old_types)} became {sorted(new_types)}")
        if name in old_required and name not in new_required:
            problems.append(f"{where}: was always present, now optional")
        old_node, new_node = _resolve(published, old), _resolve(current, new_props[name])
        if "properties" in old_node:
            nested_old = {**old_node, "$defs": published.get("$defs", {})}
            nested_new = {**new_node, "$defs": current.get("$defs", {})}
            problems += breaking_changes(nested_old, nested_new, f"{where}.")
    for name in new_required - old_required:
        problems.append(f"{path}{name}: newly required")
    return problems


def check(root: Path = SCHEMA_DIR) -> list[str]:
    problems: list[str] = []
    for contract in registered().values():
        path = schema_path(contract, root)
        current = schema_of(contract)
        if not path.exists():
            problems.append(f"{path.relative_to(root)}: not generated (run --write)")
            continue
        published = json.loads(path.read_text())
        problems += [f"{contract.ce_type()}: {p}" for p in breaking_changes(published, current)]
        if published != current and not breaking_changes(published, current):
            problems.append(f"{path.relative_to(root)}: stale (compatible change; run --write)")
    return problems


def write(root: Path = SCHEMA_DIR) -> list[str]:
    refused: list[str] = []
    for contract in registered().values():
        path = schema_path(contract, root)
        current = schema_of(contract)
        if path.exists():
            breaks = breaking_changes(json.loads(path.read_text()), current)
            if breaks:
                refused += [f"{contract.ce_type()}: {b}" for b in breaks]
                continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    return refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    problems = write() if args.write else check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
