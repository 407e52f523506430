"""Bearer-JWT authentication and per-route role checks (architecture section 5).

Locally, tokens are signed with an Ed25519 development key pair (given as JWT_PRIVATE_KEY /
JWT_PUBLIC_KEY, or created on first use under the state directory when BILLING_DEVELOPMENT=1; without
either the service refuses to start). In production, OIDC_JWKS_URL names the hospital's identity
provider and its published keys verify the tokens. Every token must carry sub, tenant, roles, iss
(equal to JWT_ISSUER), aud (JWT_AUDIENCE), iat and exp.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request

from billing_service.problems import Problem
from billing_service.settings import ServiceSettings


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    CODER = "coder"
    BILLER = "biller"
    AUDITOR = "auditor"
    ADMIN = "admin"
    FINANCE = "finance"


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str]

    def has_any(self, roles: tuple[Role, ...]) -> bool:
        return bool(self.roles & {r.value for r in roles})


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, "/problems/unauthorized")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail, "/problems/forbidden")


class MissingKeys(RuntimeError):
    """Explicit keys are required outside development (no silently generated keys in production)."""


def require_development(settings: ServiceSettings, what: str) -> None:
    if not settings.development:
        raise MissingKeys(
            f"{what} is not configured: set it explicitly (see deploy/README.md), or set "
            "BILLING_DEVELOPMENT=1 to let a development machine generate keys under BILLING_STATE_DIR"
        )


def _dev_key_paths(settings: ServiceSettings) -> tuple[Path, Path]:
    folder = Path(settings.state_dir) / "dev-jwt"
    return folder / "private.pem", folder / "public.pem"


def development_private_key(settings: ServiceSettings) -> bytes:
    if settings.jwt_private_key:
        return settings.jwt_private_key.encode()
    require_development(settings, "JWT_PRIVATE_KEY (the token signing key)")
    private_path, public_path = _dev_key_paths(settings)
    if not private_path.exists():
        private_path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        tmp = private_path.with_suffix(".tmp")
        tmp.write_bytes(private_pem)
        tmp.chmod(0o600)
        public_path.write_bytes(public_pem)
        tmp.replace(private_path)
    return private_path.read_bytes()


def development_public_key(settings: ServiceSettings) -> bytes:
    if settings.jwt_public_key:
        return settings.jwt_public_key.encode()
    if settings.jwt_private_key:
        private = serialization.load_pem_private_key(settings.jwt_private_key.encode(), password=None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    require_development(settings, "OIDC_JWKS_URL or JWT_PUBLIC_KEY (the token verification key)")
    development_private_key(settings)
    return _dev_key_paths(settings)[1].read_bytes()


def issue_token(
    settings: ServiceSettings, *, tenant: str, roles: list[str], subject: str, ttl_seconds: int = 8 * 3600
) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, development_private_key(settings), algorithm="EdDSA")


class TokenVerifier:
    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings
        self._jwks = jwt.PyJWKClient(settings.oidc_jwks_url) if settings.oidc_jwks_url else None
        # Parsed once: PyJWT would parse PEM bytes again on every request.
        self._public_key = (
            None if self._jwks else serialization.load_pem_public_key(development_public_key(settings))
        )

    def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                key: Any = self._jwks.get_signing_key_from_jwt(token).key
                algorithms = ["RS256", "ES256", "EdDSA"]
            else:
                key, algorithms = self._public_key, ["EdDSA"]
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self._settings.jwt_audience,
                issuer=self._settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise unauthorized("The token has expired.") from error
        except jwt.PyJWTError as error:
            raise unauthorized("The token is not valid.") from error
        tenant, roles = claims.get("tenant"), claims.get("roles")
        if not isinstance(tenant, str) or not tenant or not isinstance(roles, list):
            raise unauthorized("The token lacks a tenant or roles.")
        return Principal(subject=str(claims["sub"]), tenant=tenant, roles=frozenset(map(str, roles)))


def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = verifier.verify(token.strip())
    request.state.principal = principal
    return principal


def require(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that authenticates and allows only the given roles (admin is not implied)."""

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.has_any(roles):
            raise forbidden("Your role may not do this.")
        return principal

    return dependency
