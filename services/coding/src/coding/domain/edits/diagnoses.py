"""Edits on the diagnoses: count, duplicates, ICD-10-CM validity for the date, sex and age (MCE)."""

from __future__ import annotations

from collections.abc import Iterator

from coding.domain.codesets import ICD_FORMAT, MceList, release_start, undotted
from coding.domain.edits import catalogue as c
from coding.domain.edits.context import MAX_DIAGNOSES, EditContext
from coding.domain.values import Finding, shown


def diagnosis_count(ctx: EditContext) -> Iterator[Finding]:
    count = len(ctx.coding.diagnoses)
    if not 1 <= count <= MAX_DIAGNOSES:
        yield c.DX_COUNT.finding("diagnoses", f"List 1 to {MAX_DIAGNOSES} diagnoses; {count} were given.")


def duplicate_diagnoses(ctx: EditContext) -> Iterator[Finding]:
    first_seen: dict[str, int] = {}
    for index, code in enumerate(ctx.coding.diagnoses):
        bare = undotted(code)
        if bare in first_seen:
            yield c.DX_DUPLICATE.finding(
                f"diagnoses[{index}]", f"{shown(code)} repeats diagnoses[{first_seen[bare]}]."
            )
        else:
            first_seen[bare] = index


def release_coverage(ctx: EditContext) -> Iterator[Finding]:
    choice = ctx.release
    if choice is not None and not choice.covers:
        yield c.ICD_RELEASE.finding(
            "service_date",
            f"The ICD-10-CM release for this service date (effective {release_start(ctx.service_date)}) "
            f"is not loaded; diagnoses were checked against the release effective "
            f"{choice.release.effective}.",
        )


def icd_validity(ctx: EditContext) -> Iterator[Finding]:
    choice = ctx.release
    if choice is None:
        return
    catalog = ctx.code_sets.reference.icd10cm
    for index, code in enumerate(ctx.coding.diagnoses):
        field = f"diagnoses[{index}]"
        found = choice.release.get(code) if ICD_FORMAT.match(code) else None
        if found is not None:
            if not found.billable:
                yield c.ICD_NONBILLABLE.finding(
                    field,
                    f"{found.display} is a category header, not a billable code: "
                    "choose a more specific code below it.",
                )
            continue
        elsewhere = catalog.releases_with(code) if ICD_FORMAT.match(code) else []
        if not elsewhere:
            yield c.ICD_INVALID.finding(field, f"{shown(code)} is not an ICD-10-CM code.")
            continue
        later = [r for r in elsewhere if r.effective > choice.release.effective]
        if later:
            yield c.ICD_DATE.finding(
                field,
                f"{shown(code)} is not valid on the service date: it takes effect with the release "
                f"of {later[0].effective}.",
            )
        else:
            yield c.ICD_DATE.finding(
                field,
                f"{shown(code)} is no longer valid on the service date: it was last in the release "
                f"of {elsewhere[-1].effective}.",
            )


def _known_diagnoses(ctx: EditContext) -> Iterator[tuple[str, str]]:
    """(field, display code) of each diagnosis that exists in the release for the date."""
    for index, code in enumerate(ctx.coding.diagnoses):
        found = ctx.icd(code) if ICD_FORMAT.match(code) else None
        if found is not None:
            yield f"diagnoses[{index}]", found.display


def sex_conflicts(ctx: EditContext) -> Iterator[Finding]:
    sex = ctx.encounter.patient_sex
    if sex == "U":
        return  # unknown sex: nothing to conflict with
    lists = ctx.code_sets.reference.mce
    for field, code in _known_diagnoses(ctx):
        if sex == "M" and lists.female.contains(code):
            yield c.SEX_CONFLICT.finding(
                field, f"{code} is a female-only diagnosis and the patient is not recorded as female."
            )
        elif sex == "F" and lists.male.contains(code):
            yield c.SEX_CONFLICT.finding(
                field, f"{code} is a male-only diagnosis and the patient is not recorded as male."
            )


def _outside(age: int, mce: MceList) -> bool:
    return (mce.min_age is not None and age < mce.min_age) or (mce.max_age is not None and age > mce.max_age)


def _ages(mce: MceList) -> str:
    if mce.min_age == mce.max_age:
        return f"age {mce.min_age}"
    return f"ages {mce.min_age}-{mce.max_age}"


def age_conflicts(ctx: EditContext) -> Iterator[Finding]:
    age = ctx.encounter.patient_age_years
    lists = ctx.code_sets.reference.mce
    checks = (
        (lists.newborn, c.AGE_NEWBORN, "a newborn"),
        (lists.pediatric, c.AGE_PEDIATRIC, "a pediatric"),
        (lists.maternity, c.AGE_MATERNITY, "a maternity"),
        (lists.adult, c.AGE_ADULT, "an adult"),
    )
    for field, code in _known_diagnoses(ctx):
        for mce, spec, kind in checks:
            if mce.contains(code) and _outside(age, mce):
                yield spec.finding(
                    field,
                    f"{code} is {kind} diagnosis ({_ages(mce)}); the patient's age at service is "
                    "outside that range.",
                )


DIAGNOSIS_EDITS = (
    diagnosis_count,
    duplicate_diagnoses,
    release_coverage,
    icd_validity,
    sex_conflicts,
    age_conflicts,
)
