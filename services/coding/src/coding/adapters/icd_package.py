"""The ICD-10-CM release bundled in the `simple-icd-10-cm` package (CMS April 1, 2026 release)."""

from __future__ import annotations

import functools
import re
import warnings
from datetime import date

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
    with warnings.catch_warnings():
        # The package reads its data with importlib.resources calls Python deprecates; not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd

    codes: dict[str, IcdCode] = {}
    for code in icd.get_all_codes(with_dots=False):
        if not icd.is_category_or_subcategory(code):
            continue  # chapters and blocks are not codes
        codes[code] = IcdCode(code=code, billable=icd.is_leaf(code), description=icd.get_description(code))
    file_name = getattr(icd.simple_icd_10_cm, "_classification_data_package_file_name", "")
    return IcdRelease(effective=_effective(file_name), source="simple-icd-10-cm", codes=codes)
