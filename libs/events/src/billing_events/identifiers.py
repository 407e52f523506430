"""Check digits of identifiers that several services validate (standard library only)."""

from __future__ import annotations

import re

# An EDI payer id as it goes in the 837's NM1*PR NM109: X12 AN, letters, digits and hyphens
# (payer ids such as "DEMO-AETNA"), 2 to 80 characters, not starting with a hyphen.
EDI_PAYER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-]{1,79}")

NPI_PREFIX = "80840"  # the ISO 7812 issuer prefix of US health identifiers that the NPI check digit covers


def luhn_check_digit(payload: str) -> int:
    """The Luhn digit that completes `payload` (digits only)."""
    total = 0
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(npi: str) -> bool:
    """Ten digits whose last is the Luhn check digit of 80840 followed by the first nine (CMS rule)."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return luhn_check_digit(NPI_PREFIX + npi[:9]) == int(npi[9])


def is_valid_edi_payer_id(value: str) -> bool:
    return EDI_PAYER_ID.fullmatch(value) is not None
