"""Operators' importer of the CMS code-set files into coding's reference folder.

    python -m coding.entrypoints.codesets init --into /srv/coding-reference
    python -m coding.entrypoints.codesets icd10cm icd10cm_order_2027.txt --into /srv/coding-reference
    python -m coding.entrypoints.codesets hcpcs HCPC2026_OCT_ANWEB.txt --into /srv/coding-reference
    python -m coding.entrypoints.codesets ncci-ptp ccipra-v324r0-f1.txt ... --into /srv/coding-reference
    python -m coding.entrypoints.codesets mue MCR_MUE_Practitioner.csv --effective 2026-10-01 --into …
    python -m coding.entrypoints.codesets mce maternity maternity_codes.txt --into /srv/coding-reference
    python -m coding.entrypoints.codesets show --dir /srv/coding-reference

Each file is read with the same parser the service uses, so a file that would not load is refused
here, naming the line. The service reads the folder at start (CODING_REFERENCE_DIR); restart it after
an import.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from coding.adapters import cms
from coding.adapters.icd_package import bundled_release
from coding.adapters.reference import MCE_LISTS, load_reference
from coding.settings import PACKAGED_REFERENCE_DIR

_MONTHS = {"JAN": 1, "APR": 4, "APRIL": 4, "JUL": 7, "OCT": 10, "OCTOBER": 10}


def icd10cm_effective(file_name: str) -> date | None:
    """CMS names the October release by its fiscal year (icd10cm_order_2027.txt: 2026-10-01) and
    the April update with the month (…April-2026… or …2026…april…: 2026-04-01)."""
    year = re.search(r"(20\d\d)", file_name)
    if not year:
        return None
    if "april" in file_name.lower():
        return date(int(year[1]), 4, 1)
    return date(int(year[1]) - 1, 10, 1)


def dated_name(file_name: str) -> date | None:
    """An effective date written in a file name: HCPC2026_JAN_…, …_10-01-2025…, …2025-10-01…"""
    if found := re.search(r"(20\d\d)-(\d\d)-(\d\d)", file_name):
        return date(int(found[1]), int(found[2]), int(found[3]))
    if found := re.search(r"(\d\d)-(\d\d)-(20\d\d)", file_name):
        return date(int(found[3]), int(found[1]), int(found[2]))
    if found := re.search(r"(20\d\d)[_-]?(JAN|APR|JUL|OCT)", file_name.upper()):
        return date(int(found[1]), _MONTHS[found[2]], 1)
    return None


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    shutil.copyfile(source, partial)
    partial.replace(target)


def _write(text: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(target.suffix + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)


def import_icd10cm(source: Path, into: Path, effective: date | None = None) -> str:
    effective = effective or icd10cm_effective(source.name)
    if effective is None:
        raise cms.ImportProblem(f"{source.name}: give --effective (the release's April 1 or October 1)")
    if (effective.month, effective.day) not in ((4, 1), (10, 1)):
        raise cms.ImportProblem(f"{effective}: ICD-10-CM releases take effect on April 1 or October 1")
    codes = list(cms.read_icd10cm_order(_lines(source)))
    _place(source, into / "icd10cm" / f"{effective}.txt")
    billable = sum(c.billable for c in codes)
    return f"ICD-10-CM release {effective}: {len(codes)} codes, {billable} billable"


def export_bundled_icd10cm(into: Path) -> str:
    """The package's release as an order file: the service then starts in a fraction of a second."""
    release = bundled_release()
    target = into / "icd10cm" / f"{release.effective}.txt"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        count = cms.write_icd10cm_order(sorted(release.codes.values(), key=lambda c: c.code), out)
    partial.replace(target)
    return f"ICD-10-CM release {release.effective} (bundled): {count} codes written to {target}"


def import_hcpcs(source: Path, into: Path, effective: date | None = None) -> str:
    effective = effective or dated_name(source.name)
    if effective is None:
        raise cms.ImportProblem(f"{source.name}: give --effective (the quarter the file starts)")
    loaded = cms.read_hcpcs(_lines(source))
    _place(source, into / "hcpcs" / f"{effective}{source.suffix.lower() or '.txt'}")
    return f"HCPCS {effective}: {len(loaded.codes)} codes, {len(loaded.modifiers)} modifiers"


def import_ncci_ptp(sources: Sequence[Path], into: Path) -> str:
    total = 0
    for source in sources:
        edits = list(cms.read_ncci_ptp(_lines(source)))
        if not edits:
            raise cms.ImportProblem(f"{source.name}: no PTP edit rows found")
        total += len(edits)
        _place(source, into / "ncci-ptp" / source.name)
    return f"NCCI PTP: {total} edits from {len(sources)} files"


def import_mue(source: Path, into: Path, effective: date | None = None) -> str:
    effective = effective or dated_name(source.name)
    if effective is None:
        raise cms.ImportProblem(f"{source.name}: give --effective (the quarter the table starts)")
    limits = list(cms.read_mue(_lines(source)))
    if not limits:
        raise cms.ImportProblem(f"{source.name}: no MUE rows found")
    _place(source, into / "mue" / f"{effective}.csv")
    return f"MUE {effective}: {len(limits)} codes"


DEFAULT_AGES = {"newborn": (0, 0), "pediatric": (0, 17), "maternity": (9, 64), "adult": (15, 124)}


def import_mce(name: str, source: Path, into: Path, ages: tuple[int, int] | None = None) -> str:
    if name not in MCE_LISTS:
        raise cms.ImportProblem(f"{name}: the lists are {', '.join(MCE_LISTS)}")
    parsed = cms.read_code_list(_lines(source))
    if not parsed.entries:
        raise cms.ImportProblem(f"{source.name}: no codes found")
    age_range = ages or (
        (parsed.min_age, parsed.max_age) if parsed.min_age is not None else DEFAULT_AGES.get(name)
    )
    header = f"# MCE {name} list imported from {source.name}\n"
    if age_range and age_range[0] is not None:
        header += f"@age {age_range[0]} {age_range[1]}\n"
    _write(header + "\n".join(parsed.entries) + "\n", into / "mce" / f"{name}.txt")
    return f"MCE {name}: {len(parsed.entries)} entries"


def init(into: Path) -> str:
    """A new reference folder with the shipped MCE lists and modifier list (not the demo tables)."""
    for name in MCE_LISTS:
        _place(PACKAGED_REFERENCE_DIR / "mce" / f"{name}.txt", into / "mce" / f"{name}.txt")
    _place(PACKAGED_REFERENCE_DIR / "modifiers.txt", into / "modifiers.txt")
    return f"initialised {into}: MCE lists and modifiers; now import ICD-10-CM, HCPCS, NCCI PTP and MUE"


def show(directory: Path, bundled: bool) -> str:
    reference = load_reference(directory, bundled_icd10cm=bundled)
    releases = ", ".join(
        f"{r.effective} ({len(r.codes)} codes, {r.source})" for r in reference.icd10cm.releases
    )
    mue = ", ".join(f"{t.effective} ({len(t.limits)})" for t in reference.mue.tables)
    return "\n".join(
        [
            f"ICD-10-CM releases: {releases or 'none'}",
            f"HCPCS codes: {len(reference.hcpcs.codes)}; modifiers: {len(reference.modifiers)}",
            f"NCCI PTP pairs: {len(reference.ptp.pairs)}",
            f"MUE tables: {mue or 'none'}",
        ]
    )


def _date(value: str) -> date:
    return date.fromisoformat(value)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m coding.entrypoints.codesets", description=__doc__.split("\n")[0]
    )
    commands = main.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, *, into: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if into:
            sub.add_argument(
                "--into", type=Path, required=True, help="the reference folder (CODING_REFERENCE_DIR)"
            )
        return sub

    command("init", "create a reference folder with the MCE lists and the modifier list")
    sub = command("icd10cm", "import an ICD-10-CM order file (icd10cm_order_YYYY.txt)")
    sub.add_argument("file", type=Path)
    sub.add_argument("--effective", type=_date, help="YYYY-MM-DD; default from the file name")
    command("export-bundled-icd10cm", "write the simple-icd-10-cm release as an order file (fast start)")
    sub = command("hcpcs", "import a HCPCS Level II file (fixed-width ANWEB .txt, or its CSV)")
    sub.add_argument("file", type=Path)
    sub.add_argument("--effective", type=_date)
    sub = command("ncci-ptp", "import NCCI practitioner PTP edit files (tab separated .txt, or CSV)")
    sub.add_argument("files", type=Path, nargs="+")
    sub = command("mue", "import a practitioner MUE table (CSV)")
    sub.add_argument("file", type=Path)
    sub.add_argument("--effective", type=_date)
    sub = command("mce", "import one MCE list (one code or category range per line)")
    sub.add_argument("list", choices=MCE_LISTS)
    sub.add_argument("file", type=Path)
    sub.add_argument("--ages", type=int, nargs=2, metavar=("MIN", "MAX"))
    sub = command("show", "summarise what a reference folder holds", into=False)
    sub.add_argument("--dir", type=Path, default=PACKAGED_REFERENCE_DIR)
    sub.add_argument("--no-bundled", action="store_true", help="leave out the simple-icd-10-cm release")
    return main


def run(argv: Sequence[str] | None = None) -> str:
    args = parser().parse_args(argv)
    match args.command:
        case "init":
            return init(args.into)
        case "icd10cm":
            return import_icd10cm(args.file, args.into, args.effective)
        case "export-bundled-icd10cm":
            return export_bundled_icd10cm(args.into)
        case "hcpcs":
            return import_hcpcs(args.file, args.into, args.effective)
        case "ncci-ptp":
            return import_ncci_ptp(args.files, args.into)
        case "mue":
            return import_mue(args.file, args.into, args.effective)
        case "mce":
            return import_mce(args.list, args.file, args.into, tuple(args.ages) if args.ages else None)
        case _:
            return show(args.dir, not args.no_bundled)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        print(run(argv))
    except (cms.ImportProblem, OSError) as error:
        print(f"import refused: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
