"""coding.domain.drg.CmsEditor on the PyPI package msdrg: the CMS MS-DRG grouper and Medicare Code
Editor ported from CMS's Java (versions v40 to v44, FY 2023 to FY 2027), in process, no I/O per call.
The relative weights are read from reference_data/msdrg (CMS IPPS Final Rule, Table 5).
"""

from __future__ import annotations

import atexit
import functools
import threading
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal

import msdrg

from coding.domain.drg import DrgWeights, Grouped, GroupingInput, WeightTables

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "reference_data" / "msdrg"
# A principal diagnosis valid in every release the MCE knows, to ask about a procedure alone.
NEUTRAL_PRINCIPAL = "R69"
_SEX: dict[str, Literal[0, 1, 2]] = {"M": 0, "F": 1, "U": 2}


def _day(on: date) -> int:
    return on.year * 10000 + on.month * 100 + on.day


class MsdrgEditor:
    """One grouper and one MCE context per process; their native calls are serialised by a lock."""

    def __init__(self) -> None:
        self._grouper = msdrg.MsdrgGrouper()
        self._mce = msdrg.MceEditor()
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._grouper.close()
            self._mce.close()

    def group(self, stay: GroupingInput) -> Grouped:
        def diagnosis(code: str, poa: str | None) -> dict[str, str]:
            return {"code": code, "poa": poa} if poa else {"code": code}

        claim: dict[str, Any] = {
            "version": stay.version,
            "age": stay.age,
            "sex": _SEX.get(stay.sex, 2),
            "discharge_status": int(stay.discharge_status),
            "pdx": diagnosis(stay.principal.code, stay.principal.poa),
            "sdx": [diagnosis(d.code, d.poa) for d in stay.secondary],
            "procedures": [{"code": code} for code in stay.procedures],
        }
        if stay.admitting:
            claim["admit_dx"] = {"code": stay.admitting}
        with self._lock:
            result = self._grouper.group(claim)  # type: ignore[arg-type]
        mdc = result.get("final_mdc")
        return Grouped(
            drg=f"{int(result['final_drg'] or 0):03d}",
            description=str(result.get("final_drg_description") or ""),
            mdc=f"{int(mdc):02d}" if mdc is not None else "",
            return_code=str(result.get("return_code")),
        )

    def _edits(self, claim: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._mce.edit(claim)["edits"])  # type: ignore[arg-type]

    def procedure_valid(self, code: str, on: date) -> bool:
        edits = self._edits(
            {
                "discharge_date": _day(on),
                "age": 40,
                "sex": 2,
                "discharge_status": 1,
                "pdx": {"code": NEUTRAL_PRINCIPAL},
                "procedures": [{"code": code}],
            }
        )
        return not any(e["name"] == "INVALID_CODE" for e in edits)

    def procedure_sex_conflict(self, code: str, sex: str, on: date) -> bool:
        edits = self._edits(
            {
                "discharge_date": _day(on),
                "age": 40,
                "sex": _SEX.get(sex, 2),
                "discharge_status": 1,
                "pdx": {"code": NEUTRAL_PRINCIPAL},
                "procedures": [{"code": code}],
            }
        )
        return any(e["name"] == "SEX_CONFLICT" for e in edits)

    def principal_edits(self, code: str, on: date, age: int, sex: str) -> Sequence[str]:
        edits = self._edits(
            {
                "discharge_date": _day(on),
                "age": age,
                "sex": _SEX.get(sex, 2),
                "discharge_status": 1,
                "pdx": {"code": code},
            }
        )
        return [str(e["name"]) for e in edits]


def read_weights(path: Path) -> DrgWeights:
    """A tab-separated table `drg, mdc, type, weight, title` named weights-fy<YYYY>.tsv; # lines are notes."""
    year = int(path.stem.removeprefix("weights-fy"))
    weights: dict[str, str] = {}
    notes: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            notes.append(line.lstrip("# "))
            continue
        cells = line.split("\t")
        if len(cells) >= 4 and cells[0].isdigit():
            weights[f"{int(cells[0]):03d}"] = cells[3]
    return DrgWeights(year, weights, " ".join(notes))


@functools.cache
def weight_tables(directory: Path = WEIGHTS_DIR) -> WeightTables:
    return WeightTables(tuple(read_weights(p) for p in sorted(directory.glob("weights-fy*.tsv"))))


@functools.cache
def cms_editor() -> MsdrgEditor:
    editor = MsdrgEditor()
    # Freed before the interpreter tears down the modules its finalisers need.
    atexit.register(editor.close)
    return editor
