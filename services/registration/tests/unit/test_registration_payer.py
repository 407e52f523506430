"""Payer decider: given events, when RegisterPayer, then PayerRegistered or a named refusal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing_events.contracts.registration import Address, PayerRegistered
from registration.domain.errors import AlreadyExists, InvalidInput
from registration.domain.payer import RegisterPayer, payer
from registration.domain.values import AddressInput

COMMAND = RegisterPayer(
    payer_id="payer-1",
    name="Acme Health",
    edi_payer_id="acme1",
    claim_filing_indicator="ci",
    address=AddressInput(line1="1 Insurance Way", city="Hartford", state="CT", postal_code="06101-1234"),
)


def refused_fields(command: RegisterPayer) -> dict[str, str]:
    with pytest.raises(InvalidInput) as refused:
        payer.decide(command, payer.initial)
    return {i.field: i.message for i in refused.value.issues}


def test_a_new_payer_is_registered_with_normalised_codes() -> None:
    assert payer.decide(COMMAND, payer.initial) == [
        PayerRegistered(
            payer_id="payer-1",
            name="Acme Health",
            edi_payer_id="ACME1",
            claim_filing_indicator="CI",
            address=Address(line1="1 Insurance Way", city="Hartford", state="CT", postal_code="061011234"),
        )
    ]


def test_the_address_is_optional_and_timely_filing_days_default_to_a_year() -> None:
    (event,) = payer.decide(replace(COMMAND, address=None), payer.initial)
    assert isinstance(event, PayerRegistered)
    assert event.address is None
    assert event.timely_filing_days == 365
    (event,) = payer.decide(replace(COMMAND, timely_filing_days=90), payer.initial)
    assert isinstance(event, PayerRegistered)
    assert event.timely_filing_days == 90


def test_a_payer_is_registered_once() -> None:
    state = payer.fold(payer.decide(COMMAND, payer.initial))
    with pytest.raises(AlreadyExists):
        payer.decide(COMMAND, state)


def test_a_claim_filing_indicator_outside_sbr09_is_refused() -> None:
    assert refused_fields(replace(COMMAND, claim_filing_indicator="XX")) == {
        "claim_filing_indicator": "must be one of the code list"
    }


def test_every_missing_or_invalid_field_is_listed_at_once() -> None:
    command = RegisterPayer(
        payer_id="payer-2",
        name=" ",
        edi_payer_id="!",
        claim_filing_indicator=None,
        address=AddressInput(line1="1 Way", city="X", state="XX", postal_code="1"),
        timely_filing_days=0,
    )
    assert refused_fields(command) == {
        "name": "is required",
        "edi_payer_id": "must be 2 to 80 letters, digits or hyphens",
        "claim_filing_indicator": "is required",
        "address.state": "must be a two-letter US state, territory or military code",
        "address.postal_code": "must be a ZIP code of 5 or 9 digits",
        "timely_filing_days": "must be between 1 and 3650",
    }
