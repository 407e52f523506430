"""The bundled ICD-10-CM release, read from the table extracted out of process."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

from coding.adapters import icd_package


def test_the_extracted_table_is_the_packages_release_and_is_extracted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BILLING_CACHE_DIR", str(tmp_path))
    table = icd_package._extracted_table()
    release = icd_package.read_table(table)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    expected = {
        code: (icd.is_leaf(code), icd.get_description(code))
        for code in icd.get_all_codes(with_dots=False)
        if icd.is_category_or_subcategory(code)
    }
    assert {code: (c.billable, c.description) for code, c in release.codes.items()} == expected
    assert release.codes["E119"].billable and not release.codes["E11"].billable
    # A description with a tab in the package keeps it.
    assert "\t" in release.codes["H353113"].description

    def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("extracted again")

    monkeypatch.setattr(subprocess, "run", no_child)
    assert icd_package._extracted_table() == table
