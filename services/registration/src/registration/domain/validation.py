"""Field rules of registration: code lists, check digits and formats, collected field by field.

`Issues` gathers every broken rule of a command so that one answer lists them all; each `read_*`
returns the clean value, or None after noting why the field is refused.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection
from datetime import date

from billing_events.identifiers import is_valid_npi
from registration.domain.errors import FieldError, InvalidInput
from registration.domain.values import AddressInput, NameInput, PersonName, PostalAddress

# USPS codes of the states, DC, the territories and the armed forces' "states".
_STATES = """
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP AA AE AP
"""
STATE_CODES = frozenset(_STATES.split())

# The CMS place-of-service code set (two digits); the numbers CMS leaves unassigned are refused.
PLACE_OF_SERVICE_CODES: dict[str, str] = {
    "01": "Pharmacy",
    "02": "Telehealth provided other than in patient's home",
    "03": "School",
    "04": "Homeless shelter",
    "05": "Indian Health Service free-standing facility",
    "06": "Indian Health Service provider-based facility",
    "07": "Tribal 638 free-standing facility",
    "08": "Tribal 638 provider-based facility",
    "09": "Prison/correctional facility",
    "10": "Telehealth provided in patient's home",
    "11": "Office",
    "12": "Home",
    "13": "Assisted living facility",
    "14": "Group home",
    "15": "Mobile unit",
    "16": "Temporary lodging",
    "17": "Walk-in retail health clinic",
    "18": "Place of employment/worksite",
    "19": "Off campus-outpatient hospital",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "On campus-outpatient hospital",
    "23": "Emergency room-hospital",
    "24": "Ambulatory surgical center",
    "25": "Birthing center",
    "26": "Military treatment facility",
    "27": "Outreach site/street",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "33": "Custodial care facility",
    "34": "Hospice",
    "41": "Ambulance - land",
    "42": "Ambulance - air or water",
    "49": "Independent clinic",
    "50": "Federally qualified health center",
    "51": "Inpatient psychiatric facility",
    "52": "Psychiatric facility-partial hospitalization",
    "53": "Community mental health center",
    "54": "Intermediate care facility/individuals with intellectual disabilities",
    "55": "Residential substance abuse treatment facility",
    "56": "Psychiatric residential treatment center",
    "57": "Non-residential substance abuse treatment facility",
    "58": "Non-residential opioid treatment facility",
    "60": "Mass immunization center",
    "61": "Comprehensive inpatient rehabilitation facility",
    "62": "Comprehensive outpatient rehabilitation facility",
    "65": "End-stage renal disease treatment facility",
    "66": "Programs of All-Inclusive Care for the Elderly (PACE) center",
    "71": "Public health clinic",
    "72": "Rural health clinic",
    "81": "Independent laboratory",
    "99": "Other place of service",
}

# X12 005010X222A1 SBR09, claim filing indicator code.
CLAIM_FILING_INDICATORS: dict[str, str] = {
    "11": "Other non-federal programs",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "Health maintenance organization (HMO) Medicare risk",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "CHAMPUS (TRICARE)",
    "CI": "Commercial insurance company",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "Health maintenance organization",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation health claim",
    "ZZ": "Mutually defined",
}

SEXES = ("M", "F", "U")
PRIORITIES = ("primary", "secondary", "tertiary")
RELATIONSHIPS = ("self", "spouse", "child", "other")
PROVIDER_ROLES = ("billing", "rendering")

EARLIEST_BIRTH_DATE = date(1900, 1, 1)
TAXONOMY_CODE = re.compile(r"[0-9]{3}[0-9A-Z]{6}X")
POSTAL_CODE = re.compile(r"([0-9]{5})(?:-?([0-9]{4}))?")
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9.\-_/]*")


def age_in_years(birth_date: date, on: date) -> int:
    """Completed years on `on`; someone born on 29 February turns a year older on 1 March."""
    before_birthday = (on.month, on.day) < (birth_date.month, birth_date.day)
    return on.year - birth_date.year - (1 if before_birthday else 0)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    cleaned = " ".join(unicodedata.normalize("NFKC", value).split())
    return cleaned or None


class Issues:
    """Collects broken rules of one command; `raise_if_any` refuses it with all of them."""

    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.items.append(FieldError(field, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise InvalidInput(self.items)

    def text(
        self,
        field: str,
        value: str | None,
        *,
        required: bool = True,
        max_length: int = 60,
        pattern: re.Pattern[str] | None = None,
        pattern_message: str = "has characters that are not allowed",
    ) -> str | None:
        cleaned = _clean(value)
        if cleaned is None:
            if required:
                self.add(field, "is required")
            return None
        if len(cleaned) > max_length:
            self.add(field, f"must be at most {max_length} characters")
            return None
        if pattern is not None and not pattern.fullmatch(cleaned):
            self.add(field, pattern_message)
            return None
        return cleaned

    def code(
        self, field: str, value: str | None, allowed: Collection[str], *, required: bool = True
    ) -> str | None:
        cleaned = _clean(value)
        if cleaned is None:
            if required:
                self.add(field, "is required")
            return None
        if cleaned not in allowed:
            listing = ", ".join(sorted(allowed)) if len(allowed) <= 8 else "the code list"
            self.add(field, f"must be one of {listing}")
            return None
        return cleaned

    def date(self, field: str, value: str | None, *, required: bool = True) -> dt.date | None:
        cleaned = _clean(value)
        if cleaned is None:
            if required:
                self.add(field, "is required")
            return None
        try:
            if len(cleaned) != 10:
                raise ValueError(cleaned)
            return date.fromisoformat(cleaned)
        except ValueError:
            self.add(field, "must be a date as YYYY-MM-DD")
            return None

    def birth_date(self, field: str, value: str | None, *, today: dt.date) -> dt.date | None:
        born = self.date(field, value)
        if born is None:
            return None
        if born > today:
            self.add(field, "must not be in the future")
            return None
        if born < EARLIEST_BIRTH_DATE:
            self.add(field, "must not be before 1900-01-01")
            return None
        return born

    def sex(self, field: str, value: str | None, *, required: bool = True) -> str | None:
        cleaned = _clean(value)
        return self.code(field, cleaned.upper() if cleaned else None, SEXES, required=required)

    def name(self, field: str, value: NameInput | None, *, required: bool = True) -> PersonName | None:
        if value is None:
            if required:
                self.add(field, "is required")
            return None
        given = self.text(f"{field}.given", value.given, max_length=35)
        family = self.text(f"{field}.family", value.family, max_length=60)
        return PersonName(given, family) if given and family else None

    def address(
        self, field: str, value: AddressInput | None, *, required: bool = True
    ) -> PostalAddress | None:
        if value is None:
            if required:
                self.add(field, "is required")
            return None
        line1 = self.text(f"{field}.line1", value.line1, max_length=55)
        line2 = self.text(f"{field}.line2", value.line2, required=False, max_length=55)
        city = self.text(f"{field}.city", value.city, max_length=30)
        state = self.us_state(f"{field}.state", value.state)
        postal_code = self.postal_code(f"{field}.postal_code", value.postal_code)
        if line1 and city and state and postal_code:
            return PostalAddress(line1=line1, line2=line2, city=city, state=state, postal_code=postal_code)
        return None

    def us_state(self, field: str, value: str | None) -> str | None:
        cleaned = _clean(value)
        if cleaned is None:
            self.add(field, "is required")
            return None
        if cleaned.upper() not in STATE_CODES:
            self.add(field, "must be a two-letter US state, territory or military code")
            return None
        return cleaned.upper()

    def postal_code(self, field: str, value: str | None) -> str | None:
        """A ZIP of 5 digits or ZIP+4 (9 digits, with or without the hyphen), kept as digits only."""
        cleaned = _clean(value)
        if cleaned is None:
            self.add(field, "is required")
            return None
        match = POSTAL_CODE.fullmatch(cleaned)
        if match is None:
            self.add(field, "must be a ZIP code of 5 or 9 digits")
            return None
        return match.group(1) + (match.group(2) or "")

    def phone(self, field: str, value: str | None) -> str | None:
        """A US number of 10 digits (punctuation and a leading country code 1 are dropped)."""
        cleaned = _clean(value)
        if cleaned is None:
            return None
        if re.fullmatch(r"[0-9 ()+.\-]+", cleaned) is None:
            self.add(field, "must be a US phone number of 10 digits")
            return None
        digits = re.sub(r"[^0-9]", "", cleaned)
        if len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]
        if len(digits) != 10 or digits[0] in "01":
            self.add(field, "must be a US phone number of 10 digits")
            return None
        return digits

    def npi(self, field: str, value: str | None) -> str | None:
        cleaned = _clean(value)
        if cleaned is None:
            self.add(field, "is required")
            return None
        if len(cleaned) != 10 or not cleaned.isascii() or not cleaned.isdigit():
            self.add(field, "must be 10 digits")
            return None
        if not is_valid_npi(cleaned):
            self.add(field, "has a wrong check digit")
            return None
        return cleaned

    def taxonomy_code(self, field: str, value: str | None) -> str | None:
        cleaned = _clean(value)
        if cleaned is None:
            self.add(field, "is required")
            return None
        if not TAXONOMY_CODE.fullmatch(cleaned.upper()):
            self.add(field, "must be a 10-character provider taxonomy code ending in X")
            return None
        return cleaned.upper()

    def tax_id(self, field: str, value: str | None, *, required: bool) -> str | None:
        """An employer identification number: 9 digits, written NN-NNNNNNN or without the hyphen."""
        cleaned = _clean(value)
        if cleaned is None:
            if required:
                self.add(field, "is required for a billing provider")
            return None
        if re.fullmatch(r"[0-9]{2}-?[0-9]{7}", cleaned) is None:
            self.add(field, "must be 9 digits (NN-NNNNNNN)")
            return None
        return cleaned.replace("-", "")
