#!/usr/bin/env python3
"""Generate the JSON schemas that kubeconform validates the Helm chart against.

The schemas are vendored under deploy/schemas/ so that `make deploy-check` runs offline.
This script is only needed to (re)generate them; deploy/tools/fetch-schemas.sh fetches the
upstream sources (from the Go module proxy and Maven Central) and calls it.

Two inputs:

* CustomResourceDefinition YAML files (Strimzi, CloudNativePG, KEDA). Each served version of
  each CRD becomes deploy/schemas/<group>/<kind>_<version>.json, the layout that kubeconform's
  `{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json` template expects. The conversion
  follows kubeconform's openapi2jsonschema.py: objects that list their properties reject
  unknown ones (strict), `x-kubernetes-int-or-string` becomes string-or-integer, `nullable`
  admits null.

* The Kubernetes OpenAPI v2 document (api/openapi-spec/swagger.json of k8s.io/kubernetes) for
  one pinned version. Each requested kind becomes a stand-alone strict schema (every $ref
  inlined) at deploy/schemas/kubernetes/v<version>-standalone-strict/<kind><suffix>.json, the
  layout of kubeconform's default registry (suffix "-v1" for the core group, "-apps-v1",
  "-networking-v1", ...).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

Json = Any


# --------------------------------------------------------------------------- CRDs


def _strict_crd(node: Json) -> Json:
    """Make a CRD structural schema strict, the way kubeconform's converter does."""
    if isinstance(node, list):
        return [_strict_crd(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _strict_crd(value) for key, value in node.items()}
    if out.pop("x-kubernetes-int-or-string", False):
        for key in ("type", "format"):
            out.pop(key, None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if out.get("format") == "int-or-string":
        out.pop("format")
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def _strip_descriptions(node: Json) -> Json:
    """Descriptions only inflate the vendored files; kubeconform's messages never show them."""
    if isinstance(node, list):
        return [_strip_descriptions(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: _strip_descriptions(value)
        for key, value in node.items()
        if not (key == "description" and isinstance(value, str))
    }


def convert_crd(path: Path, out_dir: Path) -> list[Path]:
    written: list[Path] = []
    for doc in yaml.safe_load_all(path.read_text()):
        if not doc or doc.get("kind") != "CustomResourceDefinition":
            continue
        spec = doc["spec"]
        group = spec["group"]
        kind = spec["names"]["kind"]
        for version in spec["versions"]:
            if not version.get("served", True):
                continue
            schema = version.get("schema", {}).get("openAPIV3Schema")
            if schema is None:
                continue
            schema = _strict_crd(_strip_descriptions(copy.deepcopy(schema)))
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [f"{group}/{version['name']}"]}
            props["kind"] = {"type": "string", "enum": [kind]}
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind"})
            schema.setdefault("additionalProperties", False)
            schema["description"] = f"Generated from {path.name} ({group}/{version['name']})."
            target = out_dir / group / f"{kind.lower()}_{version['name'].lower()}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
            written.append(target)
    return written


# --------------------------------------------------------------------------- Kubernetes


def _resolve(node: Json, definitions: dict[str, Json], stack: tuple[str, ...]) -> Json:
    if isinstance(node, list):
        return [_resolve(item, definitions, stack) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        name = ref[len("#/definitions/") :]
        if name == "io.k8s.apimachinery.pkg.api.resource.Quantity":
            # kubectl and the API server accept a number as well as a string ("1", 1, "500m").
            return {"oneOf": [{"type": "string"}, {"type": "number"}]}
        if name in stack:
            # Recursive type (JSONSchemaProps); the chart renders none of those.
            return {}
        target = copy.deepcopy(definitions[name])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        target.update(extra)
        return _resolve(target, definitions, (*stack, name))
    return {key: _resolve(value, definitions, stack) for key, value in node.items()}


def _strict_k8s(node: Json, required: frozenset[str] = frozenset(), name: str | None = None) -> Json:
    """Strict object schemas; optional fields may be null (as kubectl accepts)."""
    if isinstance(node, list):
        return [_strict_k8s(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Json] = {}
    own_required = frozenset(node.get("required", []))
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {prop: _strict_k8s(schema, own_required, prop) for prop, schema in value.items()}
        else:
            out[key] = _strict_k8s(value)
    if out.get("format") == "int-or-string":
        out.pop("format")
        out.pop("type", None)
        out["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if name is not None and name not in required and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def kind_suffix(group: str, version: str) -> str:
    # kubeconform: "-" + first label of the group ("" -> version only) + "-" + version
    if not group:
        return f"-{version}"
    return f"-{group.split('.')[0].lower()}-{version}"


def convert_kubernetes(swagger: Path, k8s_version: str, kinds: list[str], out_dir: Path) -> list[Path]:
    spec = json.loads(swagger.read_text())
    definitions: dict[str, Json] = spec["definitions"]
    wanted = {k.lower() for k in kinds}
    folder = out_dir / "kubernetes" / f"v{k8s_version}-standalone-strict"
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    found: set[str] = set()
    for name, definition in sorted(definitions.items()):
        for gvk in definition.get("x-kubernetes-group-version-kind", []):
            key = f"{gvk['kind']}.{gvk['group'] or 'core'}/{gvk['version']}".lower()
            if key not in wanted:
                continue
            schema = _resolve(copy.deepcopy(definition), definitions, (name,))
            schema = _strict_k8s(_strip_descriptions(schema))
            schema.pop("x-kubernetes-group-version-kind", None)
            api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            props = schema.setdefault("properties", {})
            props["apiVersion"] = {"type": "string", "enum": [api_version]}
            props["kind"] = {"type": "string", "enum": [gvk["kind"]]}
            schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind"})
            target = folder / f"{gvk['kind'].lower()}{kind_suffix(gvk['group'], gvk['version'])}.json"
            schema["description"] = f"Generated from {name} of Kubernetes v{k8s_version}."
            target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
            written.append(target)
            found.add(key)
    missing = wanted - found
    if missing:
        raise SystemExit(f"kinds not found in {swagger}: {sorted(missing)}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path("deploy/schemas"))
    parser.add_argument("--crd", type=Path, nargs="*", default=[], help="CRD YAML files")
    parser.add_argument("--k8s-swagger", type=Path, help="swagger.json of k8s.io/kubernetes")
    parser.add_argument("--k8s-version", help="e.g. 1.35.4")
    parser.add_argument(
        "--k8s-kind",
        action="append",
        default=[],
        help="Kind.group/version, group 'core' for the core group, e.g. Deployment.apps/v1",
    )
    args = parser.parse_args(argv)
    written: list[Path] = []
    for crd in args.crd:
        written += convert_crd(crd, args.out)
    if args.k8s_swagger:
        if not args.k8s_version:
            parser.error("--k8s-version is required with --k8s-swagger")
        written += convert_kubernetes(args.k8s_swagger, args.k8s_version, args.k8s_kind, args.out)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
