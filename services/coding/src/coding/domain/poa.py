"""Present-on-admission: the indicators and the codes exempt from reporting one.

Source: ICD-10-CM Official Guidelines for Coding and Reporting, Appendix I "Present on Admission
Reporting Guidelines", the list "Categories and Codes Exempt from Diagnosis Present on Admission
Requirement" (FY 2024 edition). This is a subset of that list (the categories a general hospital
reports most), kept as data; a code not listed here needs Y, N, U or W.
"""

from __future__ import annotations

from coding.domain.codesets import undotted

# Y present at the time of inpatient admission; N not present; U documentation insufficient;
# W clinically undetermined; 1 exempt from POA reporting (sent as blank on the 837I).
POA_INDICATORS = ("Y", "N", "U", "W", "1")
EXEMPT = "1"

# Category prefixes (undotted) and category ranges of the exempt list.
EXEMPT_PREFIXES = frozenset(
    {
        "B90",
        "B91",
        "B92",
        "B93",
        "B94",  # sequelae of infectious and parasitic diseases
        "E64",  # sequelae of malnutrition and other nutritional deficiencies
        "G09",  # sequelae of inflammatory diseases of the central nervous system
        "I69",  # sequelae of cerebrovascular disease
        "O09",  # supervision of high-risk pregnancy
        "O665",  # attempted application of vacuum extractor and forceps
        "O80",  # encounter for full-term uncomplicated delivery
        "O94",  # sequelae of complication of pregnancy, childbirth and the puerperium
        "P00",  # newborn affected by maternal conditions unrelated to present pregnancy
        "Y92",
        "Y93",
        "Y99",  # place of occurrence, activity, external cause status
        "Z00",
        "Z01",
        "Z02",
        "Z03",  # examinations, observation
        "Z08",
        "Z09",  # follow-up examinations
        "Z23",  # encounter for immunization
        "Z30",
        "Z31",
        "Z32",
        "Z33",
        "Z36",
        "Z37",
        "Z38",
        "Z39",  # contraception, pregnancy, outcome
        "Z3A",  # weeks of gestation
        "Z68",  # body mass index
        "Z80",
        "Z81",
        "Z82",
        "Z83",
        "Z84",  # family history
        "Z85",
        "Z86",
        "Z87",  # personal history
    }
)
EXEMPT_RANGES = (("Q00", "Q99"),)  # congenital malformations, deformations and chromosomal abnormalities


def poa_exempt(code: str) -> bool:
    bare = undotted(code)
    if any(bare[:n] in EXEMPT_PREFIXES for n in range(3, len(bare) + 1)):
        return True
    if any(first <= bare[:3] <= last for first, last in EXEMPT_RANGES):
        return True
    # Injuries, poisonings and other consequences of external causes, sequela encounters (7th "S").
    return "S00" <= bare[:3] <= "T88" and len(bare) == 7 and bare[6] == "S"
