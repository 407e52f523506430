"""The ICD-10-CM release bundled in the `simple-icd-10-cm` package (CMS April 1, 2026 release)."""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

from coding.domain.codesets import IcdCode, IcdRelease

_MONTHS = {"April": 4, "October": 10}
FALLBACK_EFFECTIVE = date(2026, 4, 1)


def _effective(data_file_name: str) -> date:
    """The release date from the package's data file name ("icd10c-tabular-April-1-2026.xml")."""
    found = re.search(r"(April|October)-(\d{1,2})-(\d{4})", data_file_name)
    if not found:
        return FALLBACK_EFFECTIVE
    return date(int(found[3]), _MONTHS[found[1]], int(found[2]))


# Parsing the package's XML takes seconds and its result never changes within a process, so it is
# built once per process and shared (read-only) by every ReferenceData that includes it.
@functools.cache
def bundled_release() -> IcdRelease:
    """The release, read from a small table the package's data is extracted to once per machine and
    package version. The package keeps its whole parsed XML in memory once imported (177 MiB per
    process, measured): the extraction runs in a child process, so a service never holds it."""
    return read_table(_extracted_table())


def read_table(table: Path) -> IcdRelease:
    effective, *rows = table.read_text(encoding="utf-8").splitlines()
    codes: dict[str, IcdCode] = {}
    for row in rows:
        code, billable, description = json.loads(row)
        codes[code] = IcdCode(code=code, billable=billable, description=description)
    return IcdRelease(effective=date.fromisoformat(effective), source="simple-icd-10-cm", codes=codes)


def _extracted_table() -> Path:
    """The table for the installed package, extracted by a child process the first time."""
    version = importlib.metadata.version("simple-icd-10-cm")
    folder = Path(os.environ.get("BILLING_CACHE_DIR") or tempfile.gettempdir()) / "billing-coding"
    table = folder / f"icd-10-cm-{version}.jsonl"
    if not table.exists():
        folder.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name and renamed: replicas starting together each write a whole
        # table, and the last rename wins; no reader sees half of one.
        partial = folder / f".{table.name}.{os.getpid()}.tmp"
        subprocess.run([sys.executable, "-m", __name__, str(partial)], check=True, timeout=300)
        os.replace(partial, table)
    return table


def extract(target: Path) -> None:
    """Write the package's release as a table: its effective date, then [code, billable, description]
    as JSON per line (some of the package's descriptions hold tabs, kept as they are)."""
    with warnings.catch_warnings():
        # The package reads its data with importlib.resources calls Python deprecates; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd

    file_name = getattr(icd.simple_icd_10_cm, "_classification_data_package_file_name", "")
    lines = [_effective(file_name).isoformat()]
    for code in icd.get_all_codes(with_dots=False):
        if not icd.is_category_or_subcategory(code):
            continue  # chapters and blocks are not codes
        lines.append(json.dumps([code, icd.is_leaf(code), icd.get_description(code)]))
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    extract(Path(sys.argv[1]))
