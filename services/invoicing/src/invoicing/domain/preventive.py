"""ACA preventive services (Public Health Service Act §2713, 42 U.S.C. 300gg-13): which invoice lines are
preventive, and what a payer may not charge the patient for them.

A non-grandfathered plan covers, in network and without cost sharing (no deductible, copay or
coinsurance), the items with an A or B rating of the U.S. Preventive Services Task Force, ACIP
immunizations and HRSA's guidelines for women and children. The table below turns the USPSTF A/B
list into billing codes the way payers' preventive-care policies do: some codes are preventive by
themselves (a preventive visit, a screening mammogram), others only when billed for screening, that
is with a screening diagnosis (a colonoscopy with Z12.11 is a screening; with K92.1 it is diagnostic).
A line carrying modifier 33 ("preventive service": the clinician says the service is an A/B one) is
preventive whatever its code.

Source and date of the table (TABLE_SOURCE, TABLE_AS_OF): the USPSTF "A and B Recommendations" list
(uspreventiveservicestaskforce.org, recommendations through 2024: breast cancer screening at 40,
PrEP, anxiety), with codes as CMS's "Medicare Preventive Services" chart (MLN006559) and the
HealthCare.gov preventive-care list bill them. It is a curated subset (the services a clinic bills
most), not the complete list; a tenant whose payers publish their own lists should extend it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from billing_events.contracts.invoicing import CodedInvoiceLine, PostedLine

TABLE_SOURCE = (
    "USPSTF A and B Recommendations (uspreventiveservicestaskforce.org/uspstf/recommendation-topics/"
    "uspstf-a-and-b-recommendations); codes per CMS MLN006559 Medicare Preventive Services and "
    "HealthCare.gov preventive care benefits"
)
TABLE_AS_OF = "2024-04-30"  # the latest USPSTF A/B change the table reflects (breast cancer screening at 40)
PREVENTIVE_MODIFIER = "33"
MAX_MODIFIERS = 4  # an 837P service line carries at most four modifiers (SV101-3 to SV101-6)


@dataclass(frozen=True)
class PreventiveService:
    """A code that is preventive, by itself or only with one of `screening_diagnoses` (ICD-10-CM
    prefixes without the dot: "Z1211" covers Z12.11)."""

    code: str
    topic: str
    screening_diagnoses: tuple[str, ...] = ()


def _codes(codes: Iterable[str], topic: str, *diagnoses: str) -> list[PreventiveService]:
    return [PreventiveService(code, topic, tuple(diagnoses)) for code in codes]


_COLORECTAL = ("Z1211", "Z1212", "Z8601", "Z800")  # screening, and the high-risk histories payers accept
TABLE: tuple[PreventiveService, ...] = tuple(
    [
        # Preventive visits (well-adult and well-child; HRSA Bright Futures, USPSTF counselling).
        *_codes([str(c) for c in range(99381, 99388)], "preventive visit, new patient"),
        *_codes([str(c) for c in range(99391, 99398)], "preventive visit, established patient"),
        *_codes(["99401", "99402", "99403", "99404", "99411", "99412"], "preventive counselling"),
        PreventiveService("G0402", "initial preventive physical examination (Medicare)"),
        PreventiveService("G0438", "annual wellness visit, initial (Medicare)"),
        PreventiveService("G0439", "annual wellness visit, subsequent (Medicare)"),
        # Colorectal cancer screening (A, 50-75; B, 45-49).
        *_codes(["G0104", "G0105", "G0121", "G0328", "81528", "82270"], "colorectal cancer screening"),
        *_codes(
            ["45378", "45380", "45384", "45385", "45330", "45331", "45338", "74263", "00812"],
            "colorectal cancer screening (screening diagnosis)",
            *_COLORECTAL,
        ),
        # Breast cancer screening (B, biennial 40-74).
        *_codes(["77067", "77063"], "breast cancer screening mammography"),
        # Cervical cancer screening (A, 21-65).
        *_codes(["G0101", "Q0091", "G0123", "G0143", "G0476"], "cervical cancer screening"),
        *_codes(
            ["88141", "88142", "88143", "88164", "88175", "87624"],
            "cervical cancer screening",
            "Z124",
            "Z01411",
            "Z01419",
        ),
        # Lung cancer screening (B, 50-80 with a 20 pack-year history).
        *_codes(["71271", "G0296"], "lung cancer screening"),
        # Infections: HIV (A), hepatitis C (B), hepatitis B (B), syphilis (A), chlamydia and gonorrhea
        # (B), latent tuberculosis (B).
        *_codes(["G0432", "G0433", "G0435", "G0475"], "HIV screening"),
        *_codes(["87389", "86701", "86702", "86703"], "HIV screening", "Z114"),
        PreventiveService("G0472", "hepatitis C screening"),
        PreventiveService("86803", "hepatitis C screening", ("Z1159",)),
        PreventiveService("G0499", "hepatitis B screening"),
        PreventiveService("87340", "hepatitis B screening", ("Z1159",)),
        *_codes(["86592", "86780"], "syphilis screening", "Z113"),
        *_codes(["87491", "87591"], "chlamydia and gonorrhea screening", "Z113", "Z118"),
        *_codes(["86480", "86481", "86580"], "latent tuberculosis screening", "Z111", "Z117"),
        # Prediabetes and type 2 diabetes screening (B, 35-70 overweight).
        *_codes(["82947", "82950", "82951", "83036"], "prediabetes and diabetes screening", "Z131"),
        # Statin use for prevention of cardiovascular disease (B): the lipid panel that decides it.
        PreventiveService("80061", "lipid screening (statin use)", ("Z13220", "Z136")),
        # Behavioural: depression and anxiety screening (B), unhealthy alcohol use (B), tobacco
        # cessation (A), healthy weight and diet counselling (B).
        PreventiveService("G0444", "depression screening"),
        PreventiveService("96127", "depression and anxiety screening", ("Z1331", "Z1332", "Z1339")),
        *_codes(["G0442", "G0443", "99408", "99409"], "unhealthy alcohol use screening and counselling"),
        *_codes(["99406", "99407"], "tobacco cessation counselling"),
        *_codes(["G0446", "G0447", "G0473"], "healthy diet and weight counselling"),
        # Abdominal aortic aneurysm (B, men 65-75 who ever smoked), osteoporosis (B, women 65+).
        PreventiveService("76706", "abdominal aortic aneurysm screening"),
        *_codes(["77080", "77081", "G0130"], "osteoporosis screening", "Z13820", "Z78"),
    ]
)
_BY_CODE: dict[str, PreventiveService] = {service.code: service for service in TABLE}


def _plain(diagnosis: str) -> str:
    return diagnosis.replace(".", "").strip().upper()


def is_preventive(code: str, modifiers: Sequence[str], line_diagnoses: Sequence[str]) -> bool:
    """A line is preventive when it carries modifier 33, or its code is in the table and, for a code
    that is preventive only as a screening, one of the line's diagnoses is a screening diagnosis."""
    if PREVENTIVE_MODIFIER in modifiers:
        return True
    service = _BY_CODE.get(code)
    if service is None:
        return False
    if not service.screening_diagnoses:
        return True
    return any(_plain(d).startswith(service.screening_diagnoses) for d in line_diagnoses)


def line_diagnoses(line: CodedInvoiceLine, diagnoses: Sequence[str]) -> tuple[str, ...]:
    """The diagnoses a line points at (1-based pointers); all of the claim's when it points at none."""
    if not line.diagnosis_pointers:
        return tuple(diagnoses)
    return tuple(diagnoses[p - 1] for p in line.diagnosis_pointers if 0 < p <= len(diagnoses))


def preventive_line_numbers(lines: Sequence[CodedInvoiceLine], diagnoses: Sequence[str]) -> tuple[int, ...]:
    return tuple(
        line.line_number
        for line in lines
        if is_preventive(line.code, line.modifiers, line_diagnoses(line, diagnoses))
    )


def with_modifier_33(line: CodedInvoiceLine) -> CodedInvoiceLine:
    """The line as a payer that wants modifier 33 on preventive services must receive it."""
    if PREVENTIVE_MODIFIER in line.modifiers or len(line.modifiers) >= MAX_MODIFIERS:
        return line
    return line.model_copy(update={"modifiers": (*line.modifiers, PREVENTIVE_MODIFIER)})


def preventive_cost_sharing_cents(lines: Sequence[PostedLine], exempt: Iterable[int]) -> int:
    """The PR (deductible, coinsurance, copay) a payer assigned on lines that may carry none."""
    numbers = set(exempt)
    return sum(
        adjustment.amount_cents
        for line in lines
        if line.line_number in numbers
        for adjustment in line.adjustments
        if adjustment.group == "PR"
    )
