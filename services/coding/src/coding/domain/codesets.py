"""The code sets and edit tables the edits consult, as plain in-memory values.

Loading them (CMS file layouts, the simple-icd-10-cm package) is the adapters' job; here they are
only looked up, so the edits stay pure and unit tests build tiny tables in a few lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from coding.domain.values import CodeSystem

# CPT Category I is five digits; Category II ends in F, Category III in T. PLA (U) and MAAA (M)
# codes are CPT codes of the same shape and are billed on professional claims too.
CPT_FORMAT = re.compile(r"^(\d{5}|\d{4}[FTUM])$")
HCPCS_FORMAT = re.compile(r"^[A-Z]\d{4}$")
# The second character is a digit but for a few new categories (QA0, April 2026).
ICD_FORMAT = re.compile(r"^[A-Z][0-9A-Z][0-9A-Z](\.?[0-9A-Z]{1,4})?$")


def code_system(code: str) -> CodeSystem | None:
    if CPT_FORMAT.match(code):
        return "CPT"
    if HCPCS_FORMAT.match(code):
        return "HCPCS"
    return None


def undotted(code: str) -> str:
    return code.replace(".", "").strip().upper()


def dotted(code: str) -> str:
    """ICD-10-CM's written form: a dot after the category when the code is longer than three."""
    bare = undotted(code)
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def next_release_boundary(day: date) -> date:
    """The first April 1 or October 1 strictly after `day`: when the next ICD-10-CM release starts."""
    if day < date(day.year, 4, 1):
        return date(day.year, 4, 1)
    if day < date(day.year, 10, 1):
        return date(day.year, 10, 1)
    return date(day.year + 1, 4, 1)


def release_start(day: date) -> date:
    """The April 1 or October 1 on or before `day`: the start of the release that should cover it."""
    if day >= date(day.year, 10, 1):
        return date(day.year, 10, 1)
    if day >= date(day.year, 4, 1):
        return date(day.year, 4, 1)
    return date(day.year - 1, 10, 1)


@dataclass(frozen=True)
class IcdCode:
    code: str  # without the dot, upper case: "E119"
    billable: bool  # the order file's flag: 1 = valid for HIPAA-covered transactions, 0 = header
    description: str
    short_description: str = ""

    @property
    def display(self) -> str:
        return dotted(self.code)


@dataclass(frozen=True, eq=False)  # identity: a release is cached and indexed as one object
class IcdRelease:
    effective: date
    source: str
    codes: Mapping[str, IcdCode]

    def get(self, code: str) -> IcdCode | None:
        return self.codes.get(undotted(code))


@dataclass(frozen=True)
class ReleaseChoice:
    release: IcdRelease
    # False when no loaded release covers the date and the nearest one stands in for it.
    covers: bool


class IcdCatalog:
    """ICD-10-CM releases by effective date. A release covers its dates until the next loaded release
    or the next April 1 / October 1 boundary, whichever comes first."""

    def __init__(self, releases: Iterable[IcdRelease]) -> None:
        by_date = {r.effective: r for r in releases}
        self.releases: tuple[IcdRelease, ...] = tuple(by_date[d] for d in sorted(by_date))

    def window_end(self, index: int) -> date:
        release = self.releases[index]
        boundary = next_release_boundary(release.effective)
        if index + 1 < len(self.releases):
            return min(boundary, self.releases[index + 1].effective)
        return boundary

    def for_date(self, day: date) -> ReleaseChoice | None:
        if not self.releases:
            return None
        for index in range(len(self.releases) - 1, -1, -1):
            release = self.releases[index]
            if release.effective <= day:
                return ReleaseChoice(release, covers=day < self.window_end(index))
        return ReleaseChoice(self.releases[0], covers=False)

    def releases_with(self, code: str) -> list[IcdRelease]:
        bare = undotted(code)
        return [r for r in self.releases if bare in r.codes]


@dataclass(frozen=True)
class HcpcsCode:
    code: str
    description: str
    added: date | None = None
    # The last date the code may be reported (CMS's TERM DT); None while it is active.
    terminated: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.added is None or self.added <= day) and (
            self.terminated is None or day <= self.terminated
        )


@dataclass(frozen=True)
class HcpcsCatalog:
    codes: Mapping[str, HcpcsCode] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return bool(self.codes)


ModifierIndicator = Literal["0", "1", "9"]


@dataclass(frozen=True)
class PtpEdit:
    """An NCCI procedure-to-procedure edit: column 2 is not paid with column 1 on the same day."""

    column1: str
    column2: str
    effective: date
    deleted: date | None  # first day the edit no longer applies
    modifier_indicator: ModifierIndicator

    def active_on(self, day: date) -> bool:
        return self.effective <= day and (self.deleted is None or day < self.deleted)


@dataclass(frozen=True)
class PtpTable:
    pairs: Mapping[tuple[str, str], tuple[PtpEdit, ...]] = field(default_factory=dict)

    @staticmethod
    def of(edits: Iterable[PtpEdit]) -> PtpTable:
        pairs: dict[tuple[str, str], list[PtpEdit]] = {}
        for edit in edits:
            pairs.setdefault((edit.column1, edit.column2), []).append(edit)
        return PtpTable({pair: tuple(found) for pair, found in pairs.items()})

    def edit_for(self, column1: str, column2: str, day: date) -> PtpEdit | None:
        for edit in self.pairs.get((column1, column2), ()):
            if edit.active_on(day):
                return edit
        return None

    @property
    def loaded(self) -> bool:
        return bool(self.pairs)


@dataclass(frozen=True)
class MueLimit:
    code: str
    units: int
    # MUE adjudication indicator: 1 per claim line, 2 per day by policy, 3 per day by clinical benchmark.
    adjudication: int
    rationale: str = ""


@dataclass(frozen=True)
class MueTable:
    effective: date
    limits: Mapping[str, MueLimit]


class MueTables:
    def __init__(self, tables: Iterable[MueTable] = ()) -> None:
        self.tables = tuple(sorted(tables, key=lambda t: t.effective))

    def for_date(self, day: date) -> MueTable | None:
        current = [t for t in self.tables if t.effective <= day]
        if current:
            return current[-1]
        return self.tables[0] if self.tables else None


@dataclass(frozen=True)
class MceList:
    """A Medicare Code Editor style list of diagnoses restricted to an age range or a sex.

    Entries are code prefixes ("Z00.1" covers Z00.110 ...) or category ranges ("O00-O9A").
    """

    name: str
    prefixes: frozenset[str] = frozenset()
    ranges: tuple[tuple[str, str], ...] = ()
    min_age: int | None = None
    max_age: int | None = None

    def contains(self, code: str) -> bool:
        bare = undotted(code)
        if any(bare[:n] in self.prefixes for n in range(3, len(bare) + 1)):
            return True
        category = bare[:3]
        return any(first <= category <= last for first, last in self.ranges)

    @staticmethod
    def parse_entries(name: str, entries: Iterable[str], min_age: int | None, max_age: int | None) -> MceList:
        prefixes: set[str] = set()
        ranges: list[tuple[str, str]] = []
        for entry in entries:
            if "-" in entry:
                first, last = entry.split("-", 1)
                ranges.append((undotted(first)[:3], undotted(last)[:3]))
            else:
                prefixes.add(undotted(entry))
        return MceList(name, frozenset(prefixes), tuple(ranges), min_age, max_age)


@dataclass(frozen=True)
class MceLists:
    newborn: MceList = MceList("newborn")
    pediatric: MceList = MceList("pediatric")
    maternity: MceList = MceList("maternity")
    adult: MceList = MceList("adult")
    female: MceList = MceList("female")
    male: MceList = MceList("male")


@dataclass(frozen=True)
class ReferenceData:
    """Everything public the edits read; the same for every tenant."""

    icd10cm: IcdCatalog
    hcpcs: HcpcsCatalog = HcpcsCatalog()
    modifiers: frozenset[str] = frozenset()
    ptp: PtpTable = PtpTable()
    mue: MueTables = field(default_factory=MueTables)
    mce: MceLists = MceLists()


@dataclass(frozen=True)
class CptLicence:
    """A tenant's imported CPT list, narrowed to the codes in question. Without an import, CPT codes
    are checked by format only (the platform ships no AMA content)."""

    imported: bool = False
    licensed: frozenset[str] = frozenset()

    def allows(self, code: str) -> bool:
        return not self.imported or code in self.licensed


@dataclass(frozen=True)
class CodeSets:
    reference: ReferenceData
    cpt: CptLicence = CptLicence()
