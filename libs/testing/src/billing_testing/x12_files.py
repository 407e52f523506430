"""Large X12 files written as text, for tests and benchmarks of big inputs (a payer's 835 with
hundreds of thousands of claims). Text templates, not the model writer: a 250,000-claim file is
about 60 MB, and building it as objects first would measure the generator, not the reader."""

from __future__ import annotations

from collections.abc import Callable, Iterator

# Every claim: billed 100.00, paid 80.00, contractual adjustment 20.00 (CO-45), one service line.
CLAIM_CHARGE_CENTS = 10_000
CLAIM_PAID_CENTS = 8_000


def _claim_segments(pcn: str, number: int) -> Iterator[str]:
    yield f"CLP*{pcn}*1*100*80**12*ICN{number:09d}*11*1"
    yield f"NM1*QC*1*PATIENT*TEST****MI*M{number:09d}"
    yield "SVC*HC:99213*100*80**1"
    yield "DTM*472*20260302"
    yield "CAS*CO*45*20"
    yield f"REF*6R*{number}"


def large_835(
    claims: int,
    *,
    pcn_for: Callable[[int], str] = lambda number: f"PCN{number:012d}",
    receiver_id: str = "CLINIC01",
    payer_key: str = "ACME1",
    trace_number: str = "EFT-LARGE-1",
    control_number: int = 901,
) -> bytes:
    """One interchange, one 835: `claims` paid claims (claims x 80.00 paid in BPR02)."""
    paid_total = claims * CLAIM_PAID_CENTS
    body = [
        f"BPR*I*{paid_total // 100}.{paid_total % 100:02d}*C*CHK************20260310",
        f"TRN*1*{trace_number}*1060000001",
        "N1*PR*ACME HEALTH",
        f"REF*2U*{payer_key}",
        "N1*PE*DEMO CLINIC*XX*1234567893",
        "LX*1",
    ]
    segments = ["ST*835*0001", *body]
    for number in range(1, claims + 1):
        segments.extend(_claim_segments(pcn_for(number), number))
    segments.append(f"SE*{len(segments) + 1}*0001")
    isa = (
        f"ISA*00*          *00*          *ZZ*{'ACMECH':<15}*ZZ*{receiver_id:<15}*260310*0930*^*00501*"
        f"{control_number:09d}*0*P*:"
    )
    lines = [
        isa,
        f"GS*HP*ACMECH*{receiver_id}*20260310*0930*{control_number}*X*005010X221A1",
        *segments,
        f"GE*1*{control_number}",
        f"IEA*1*{control_number:09d}",
    ]
    return ("~".join(lines) + "~").encode("ascii")
