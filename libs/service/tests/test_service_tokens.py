"""Tokens: issuer required and checked, iat required; no silently generated keys outside development."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest

from billing_service.auth import MissingKeys, TokenVerifier, development_private_key, issue_token
from billing_service.problems import Problem
from billing_service.runtime import master_key
from billing_service.settings import ServiceSettings


def dev_settings(tmp_path: Path) -> ServiceSettings:
    return ServiceSettings(BILLING_STATE_DIR=str(tmp_path), BILLING_DEVELOPMENT=True)


def signed(settings: ServiceSettings, **overrides: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "u1",
        "tenant": "acme",
        "roles": ["biller"],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, development_private_key(settings), algorithm="EdDSA")


def test_a_token_of_the_right_issuer_is_accepted(tmp_path: Path) -> None:
    settings = dev_settings(tmp_path)
    principal = TokenVerifier(settings).verify(
        issue_token(settings, tenant="acme", roles=["biller"], subject="u")
    )
    assert principal.tenant == "acme"


@pytest.mark.parametrize(
    "claims",
    [{"iss": "someone-else"}, {"iss": None}, {"iat": None}, {"aud": None}, {"aud": "other"}],
    ids=["other-issuer", "no-issuer", "no-iat", "no-audience", "other-audience"],
)
def test_a_token_signed_with_the_right_key_but_wrong_claims_is_refused(
    tmp_path: Path, claims: dict[str, Any]
) -> None:
    settings = dev_settings(tmp_path)
    with pytest.raises(Problem) as refused:
        TokenVerifier(settings).verify(signed(settings, **claims))
    assert refused.value.status == 401


def test_without_keys_and_outside_development_nothing_is_generated(tmp_path: Path) -> None:
    settings = ServiceSettings(BILLING_STATE_DIR=str(tmp_path), BILLING_DEVELOPMENT=False)
    with pytest.raises(MissingKeys, match="JWT_PUBLIC_KEY"):
        TokenVerifier(settings)
    with pytest.raises(MissingKeys, match="PHI_MASTER_KEY"):
        master_key(settings)
    assert list(tmp_path.iterdir()) == []


def test_explicit_keys_need_no_development_flag(tmp_path: Path) -> None:
    private = development_private_key(dev_settings(tmp_path / "keys")).decode()
    settings = ServiceSettings(
        BILLING_STATE_DIR=str(tmp_path / "state"),
        BILLING_DEVELOPMENT=False,
        jwt_private_key=private,
        phi_master_key="A" * 43 + "=",
    )
    token = issue_token(settings, tenant="acme", roles=["biller"], subject="u")
    assert TokenVerifier(settings).verify(token).subject == "u"
    assert len(master_key(settings)) == 32
    assert not (tmp_path / "state").exists()
