"""Code systems and value mappings of the FHIR resources (pure: no I/O)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
PLACE_OF_SERVICE = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
NPI = "http://hl7.org/fhir/sid/us-npi"
TAX_ID = "urn:oid:2.16.840.1.113883.4.4"
NUCC_TAXONOMY = "http://nucc.org/provider-taxonomy"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PROCESS_PRIORITY = "http://terminology.hl7.org/CodeSystem/processpriority"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
CARE_TEAM_ROLE = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
# CARIN Blue Button (STU 2.0) code systems for the EOB's adjudication amounts and their discriminators.
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
C4BB_DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"
C4BB_PAYER_ADJUDICATION_STATUS = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus"
C4BB_IDENTIFIER_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
RARC = "https://x12.org/codes/remittance-advice-remark-codes"
CLAIM_ADJUSTMENT_GROUP = "https://x12.org/codes/claim-adjustment-group-codes"
# The platform's own identifier systems (URNs: no resolvable registry exists for them).
MRN_SYSTEM = "urn:billing:mrn"
PAYER_ID_SYSTEM = "urn:billing:edi-payer-id"
PAYER_CLAIM_CONTROL_NUMBER = "urn:billing:payer-claim-control-number"

GENDER = {"M": "male", "F": "female", "U": "unknown"}
PRIORITY_ORDER = {"primary": 1, "secondary": 2, "tertiary": 3}

_CPT = re.compile(r"^[0-9]{4}[0-9FTU]$")
_HCPCS = re.compile(r"^[A-V][0-9]{4}$")


def procedure_system(code: str) -> str:
    """CPT (five digits, or four and F/T/U) or HCPCS Level II (a letter and four digits)."""
    if _CPT.match(code):
        return CPT
    if _HCPCS.match(code):
        return HCPCS
    return CPT


def money(cents: int) -> dict[str, Any]:
    """FHIR Money from integer cents, exactly (no float on the way)."""
    return {"value": Decimal(cents).scaleb(-2), "currency": "USD"}


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"system": system, "code": code}
    if display:
        entry["display"] = display
    return {"coding": [entry]}


# How a CAS adjustment (group, CARC) shows on an EOB item: the CARIN BB adjudication category.
# PR 1/2/3 are the patient's deductible, coinsurance and copay; other PR amounts are member liability;
# CO amounts are the contract's discount; anything else (OA, PI, CR, OI) is not covered by this payer.
def adjustment_category(group: str, reason: str) -> tuple[str, str]:
    if group == "PR":
        return {
            "1": (ADJUDICATION, "deductible"),
            "2": (C4BB_ADJUDICATION, "coinsurance"),
            "3": (ADJUDICATION, "copay"),
        }.get(reason, (C4BB_ADJUDICATION, "memberliability"))
    if group == "CO":
        return C4BB_ADJUDICATION, "discount"
    return C4BB_ADJUDICATION, "noncovered"
