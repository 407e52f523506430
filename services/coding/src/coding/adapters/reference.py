"""Loading the reference folder into ReferenceData, once per service, off the event loop.

The folder (CODING_REFERENCE_DIR) holds what an operator imported with
`python -m coding.entrypoints.codesets`:

    icd10cm/<effective YYYY-MM-DD>.txt   ICD-10-CM order files, one per release
    hcpcs/<effective>.txt|.csv           HCPCS Level II files; a later file's entries win
    ncci-ptp/*.txt|.csv                  NCCI practitioner PTP edits (each row carries its dates)
    mue/<effective>.csv                  practitioner MUE tables, one per quarter
    mce/<list>.txt                       newborn, pediatric, maternity, adult, female, male
    modifiers.txt                        the known modifiers (HCPCS modifier records are added)

A kind that is missing leaves its edits inactive (logged at start).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from datetime import date
from pathlib import Path

from coding.adapters import cms
from coding.adapters.icd_package import bundled_release
from coding.adapters.search import CodeSearchIndex
from coding.domain.codesets import (
    HcpcsCatalog,
    HcpcsCode,
    IcdCatalog,
    IcdRelease,
    MceList,
    MceLists,
    MueTable,
    MueTables,
    PtpEdit,
    PtpTable,
    ReferenceData,
)
from coding.settings import CodingSettings

log = logging.getLogger(__name__)

MCE_LISTS = ("newborn", "pediatric", "maternity", "adult", "female", "male")


def _dated_files(folder: Path, *suffixes: str) -> list[tuple[date, Path]]:
    found: list[tuple[date, Path]] = []
    if not folder.is_dir():
        return found
    for path in sorted(folder.iterdir()):
        if path.suffix not in suffixes:
            continue
        try:
            found.append((date.fromisoformat(path.stem), path))
        except ValueError:
            raise cms.ImportProblem(f"{path.name}: name the file by its effective date, YYYY-MM-DD") from None
    return sorted(found)


def _lines(path: Path) -> list[str]:
    # CMS files are mostly ASCII; a stray Windows-1252 byte in a description must not stop a load.
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def load_icd_releases(directory: Path, *, bundled: bool) -> list[IcdRelease]:
    releases: dict[date, IcdRelease] = {}
    if bundled:
        release = bundled_release()
        releases[release.effective] = release
    for effective, path in _dated_files(directory / "icd10cm", ".txt"):
        codes = {code.code: code for code in cms.read_icd10cm_order(_lines(path))}
        releases[effective] = IcdRelease(effective, path.name, codes)
    return [releases[d] for d in sorted(releases)]


def load_reference(directory: Path, *, bundled_icd10cm: bool = True) -> ReferenceData:
    icd = IcdCatalog(load_icd_releases(directory, bundled=bundled_icd10cm))

    hcpcs: dict[str, HcpcsCode] = {}
    modifiers: set[str] = set()
    for _, path in _dated_files(directory / "hcpcs", ".txt", ".csv"):
        loaded = cms.read_hcpcs(_lines(path))
        hcpcs.update(loaded.codes)
        modifiers.update(loaded.modifiers)
    if (directory / "modifiers.txt").is_file():
        modifiers |= cms.read_modifiers(_lines(directory / "modifiers.txt"))

    ptp: list[PtpEdit] = []
    ptp_folder = directory / "ncci-ptp"
    if ptp_folder.is_dir():
        for path in sorted(ptp_folder.iterdir()):
            if path.suffix in (".txt", ".csv"):
                ptp.extend(cms.read_ncci_ptp(_lines(path)))

    mue = [
        MueTable(effective, {limit.code: limit for limit in cms.read_mue(_lines(path))})
        for effective, path in _dated_files(directory / "mue", ".csv", ".txt")
    ]

    lists: dict[str, MceList] = {}
    for name in MCE_LISTS:
        path = directory / "mce" / f"{name}.txt"
        if path.is_file():
            parsed = cms.read_code_list(_lines(path))
            lists[name] = MceList.parse_entries(name, parsed.entries, parsed.min_age, parsed.max_age)

    reference = ReferenceData(
        icd10cm=icd,
        hcpcs=HcpcsCatalog(hcpcs),
        modifiers=frozenset(modifiers),
        ptp=PtpTable.of(ptp),
        mue=MueTables(mue),
        mce=MceLists(**lists),
    )
    _log_summary(reference, lists)
    return reference


def _log_summary(reference: ReferenceData, lists: dict[str, MceList]) -> None:
    log.info(
        "code sets loaded",
        extra={
            "icd10cm_releases": [str(r.effective) for r in reference.icd10cm.releases],
            "hcpcs_codes": len(reference.hcpcs.codes),
            "modifiers": len(reference.modifiers),
            "ncci_ptp_pairs": len(reference.ptp.pairs),
            "mue_tables": len(reference.mue.tables),
            "mce_lists": sorted(lists),
        },
    )
    missing = [
        name
        for name, present in (
            ("ICD-10-CM", bool(reference.icd10cm.releases)),
            ("HCPCS", reference.hcpcs.loaded),
            ("modifiers", bool(reference.modifiers)),
            ("NCCI PTP", reference.ptp.loaded),
            ("MUE", bool(reference.mue.tables)),
        )
        if not present
    ] + [f"MCE {name}" for name in MCE_LISTS if name not in lists]
    if missing:
        log.warning("code sets missing: their edits are inactive", extra={"missing": missing})


@functools.lru_cache(maxsize=8)
def search_index(release: IcdRelease) -> CodeSearchIndex:
    """One index per release object for the whole process (releases are immutable)."""
    return CodeSearchIndex(release.codes.values())


class ReferenceProvider:
    """Loads the reference data once, on first use or in the background at start."""

    def __init__(self, settings: CodingSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._data: ReferenceData | None = None
        self._indexes: dict[int, CodeSearchIndex] = {}

    def load(self) -> ReferenceData:
        with self._lock:
            if self._data is None:
                self._data = load_reference(
                    self.settings.reference_dir, bundled_icd10cm=self.settings.bundled_icd10cm
                )
            return self._data

    async def get(self) -> ReferenceData:
        if self._data is not None:
            return self._data
        return await asyncio.to_thread(self.load)

    async def index(self, release: IcdRelease) -> CodeSearchIndex:
        known = self._indexes.get(id(release))
        if known is None:
            # Building takes about a second on the full release: never on the event loop.
            known = self._indexes[id(release)] = await asyncio.to_thread(search_index, release)
        return known

    def warm(self) -> None:
        """Load and index the newest release in a background thread."""

        def run() -> None:
            try:
                data = self.load()
                if data.icd10cm.releases:
                    search_index(data.icd10cm.releases[-1])
            except Exception as error:  # the first request will load again and report it
                log.warning("warming the code sets failed", extra={"error": type(error).__name__})

        threading.Thread(target=run, name="coding-reference-warm", daemon=True).start()
