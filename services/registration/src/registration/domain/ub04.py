"""UB-04 code lists of an institutional stay, as data (source: NUBC Official UB-04 Data Specifications
Manual, form locators 14, 15 and 17, as summarised by CMS in the Medicare Claims Processing Manual,
Pub. 100-04, chapter 25, section 75). The codes are the stable ids; the texts are for people."""

from __future__ import annotations

# FL 14, priority (type) of admission or visit.
ADMISSION_TYPES: dict[str, str] = {
    "1": "Emergency",
    "2": "Urgent",
    "3": "Elective",
    "4": "Newborn",
    "5": "Trauma",
    "9": "Information not available",
}

# FL 15, point of origin for admission or visit (codes 7 and B/C were retired by NUBC).
ADMISSION_SOURCES: dict[str, str] = {
    "1": "Non-health care facility point of origin",
    "2": "Clinic or physician's office",
    "4": "Transfer from a hospital (different facility)",
    "5": "Transfer from a skilled nursing facility, intermediate care facility or assisted living facility",
    "6": "Transfer from another health care facility",
    "8": "Court/law enforcement",
    "9": "Information not available",
    "D": "Transfer from one distinct unit of the hospital to another distinct unit of the same hospital",
    "E": "Transfer from ambulatory surgery center",
    "F": "Transfer from a hospice facility",
    "G": "Transfer from a designated disaster alternate care site",
}

# FL 15 when the admission type is 4 (newborn): the codes change meaning.
NEWBORN_SOURCES: dict[str, str] = {
    "5": "Born inside this hospital",
    "6": "Born outside of this hospital",
}

# FL 17, patient discharge status.
DISCHARGE_STATUSES: dict[str, str] = {
    "01": "Discharged to home or self care (routine discharge)",
    "02": "Discharged/transferred to a short-term general hospital for inpatient care",
    "03": "Discharged/transferred to a skilled nursing facility (SNF) with Medicare certification",
    "04": "Discharged/transferred to a facility that provides custodial or supportive care",
    "05": "Discharged/transferred to a designated cancer center or children's hospital",
    "06": "Discharged/transferred to home under care of an organized home health service organization",
    "07": "Left against medical advice or discontinued care",
    "09": "Admitted as an inpatient to this hospital",
    "20": "Expired",
    "21": "Discharged/transferred to court/law enforcement",
    "30": "Still patient",
    "40": "Expired at home (hospice claims only)",
    "41": "Expired in a medical facility (hospice claims only)",
    "42": "Expired, place unknown (hospice claims only)",
    "43": "Discharged/transferred to a federal health care facility",
    "50": "Discharged/transferred to hospice - home",
    "51": "Discharged/transferred to hospice - medical facility",
    "61": "Discharged/transferred to a hospital-based Medicare approved swing bed",
    "62": "Discharged/transferred to an inpatient rehabilitation facility (IRF)",
    "63": "Discharged/transferred to a Medicare certified long term care hospital (LTCH)",
    "64": "Discharged/transferred to a nursing facility certified under Medicaid but not Medicare",
    "65": "Discharged/transferred to a psychiatric hospital or psychiatric distinct part unit",
    "66": "Discharged/transferred to a critical access hospital (CAH)",
    "69": "Discharged/transferred to a designated disaster alternative care site",
    "70": "Discharged/transferred to another type of health care institution not defined elsewhere",
    "81": "Discharged to home or self care with a planned acute care hospital inpatient readmission",
    "82": "Discharged/transferred to a short-term general hospital with a planned readmission",
    "83": "Discharged/transferred to a SNF with a planned acute care hospital inpatient readmission",
    "84": "Discharged/transferred to a custodial care facility with a planned readmission",
    "85": "Discharged/transferred to a cancer center or children's hospital with a planned readmission",
    "86": "Discharged to home health care with a planned acute care hospital inpatient readmission",
    "87": "Discharged/transferred to court/law enforcement with a planned readmission",
    "88": "Discharged/transferred to a federal health care facility with a planned readmission",
    "89": "Discharged/transferred to a swing bed with a planned acute care hospital inpatient readmission",
    "90": "Discharged/transferred to an IRF with a planned acute care hospital inpatient readmission",
    "91": "Discharged/transferred to an LTCH with a planned acute care hospital inpatient readmission",
    "92": "Discharged/transferred to a Medicaid-only nursing facility with a planned readmission",
    "93": "Discharged/transferred to a psychiatric hospital with a planned readmission",
    "94": "Discharged/transferred to a CAH with a planned acute care hospital inpatient readmission",
    "95": "Discharged/transferred to another institution with a planned readmission",
}

FACILITY_KINDS = ("hospital", "clinic", "asc", "snf")
SETTINGS = ("inpatient", "outpatient")
