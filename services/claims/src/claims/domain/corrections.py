"""After an earlier payer reverses or corrects its answer, what becomes of the later payer's claim.

A payer corrects itself in its 835 with a reversal (CLP02 22, the earlier amounts negated) and, most
often, a corrected answer right after it. The secondary (or tertiary) claim billed from the first
answer reported amounts that no longer stand:
- the corrected answer still leaves a balance that payer owes: the claim carries the corrected answer
  and, when the payer already holds it, is replaced (frequency 7, REF*F8 with the original reference);
- the corrected answer leaves nothing to it (paid in full, written off), or the earlier payer only
  reversed and has not answered again: the claim is voided (frequency 8 when the payer holds it);
- a crossover record (the earlier payer forwarded the claim itself) was never sent by the platform:
  the payers settle it between themselves, nothing is sent.

The decision looks at the earlier payer's claim as it stands after the whole remittance, so that a
reversal followed by its correction in the same 835 replaces the claim once, never voids it first.
"""

from __future__ import annotations

from claims.domain.claim import ClaimState, Command, ReviseForPriorPayer, Void
from claims.domain.coordination import prior_adjudication

REVERSED_ONLY = "the earlier payer reversed its answer and has not answered again"
NOTHING_LEFT = "the earlier payer's corrected answer leaves nothing for this payer"
CORRECTED = "the earlier payer corrected its answer"


def later_claim_revision(earlier: ClaimState, later: ClaimState) -> Command | None:
    """The command for the later payer's claim after the earlier payer's latest answer, or None."""
    content, answer = earlier.content, earlier.adjudication
    if content is None or answer is None or later.content is None:
        return None
    if later.content.crossover or later.status == "closed":
        return None
    if earlier.status in ("voided", "closed"):
        return None  # the earlier claim itself was withdrawn: its own void tells the story
    if answer.outcome == "reversed":
        return None if later.status == "voided" else Void(REVERSED_ONLY)
    if answer.crossover or answer.next_payer_id != later.content.payer_id:
        return None if later.status == "voided" else Void(NOTHING_LEFT)
    standing = prior_adjudication(
        content,
        payer_claim_control_number=answer.payer_claim_control_number,
        paid_cents=answer.paid_cents,
        patient_responsibility_cents=answer.patient_responsibility_cents,
        claim_adjustments=answer.claim_adjustments,
        lines=answer.lines,
        adjudicated_on=answer.adjudicated_on,
    )
    return ReviseForPriorPayer(standing, CORRECTED)
