"""The tool's own RSA key: generated once, kept in PostgreSQL (every API process and worker signs with the same
key, and nothing secret lives in the repository or on one machine's disk), published as a JWKS."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import LtiToolKey

# Any constant: it names the advisory lock two processes take so that they do not both generate a first key.
_KEY_LOCK = 0x17_7001


@dataclass(frozen=True)
class ToolKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "alg": "RS256", "use": "sig"}

    def sign(self, claims: dict[str, Any], *, ttl_s: int = 300) -> str:
        now = int(time.time())
        body = {"iat": now, "exp": now + ttl_s, "jti": uuid.uuid4().hex, **claims}
        return jwt.encode(body, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def _load(row: LtiToolKey) -> ToolKey:
    key = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise RuntimeError("the stored LTI tool key is not an RSA key")
    return ToolKey(row.kid, key)


async def tool_keys(session: AsyncSession) -> list[ToolKey]:
    """Every stored key, newest first; a first one is generated (once, whichever process asks first)."""
    query = select(LtiToolKey).order_by(LtiToolKey.id.desc())
    rows = list((await session.execute(query)).scalars())
    if not rows:
        await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_LOCK})
        rows = list((await session.execute(query)).scalars())
        if not rows:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ).decode()
            row = LtiToolKey(kid=secrets.token_hex(8), private_key_pem=pem)
            session.add(row)
            await session.flush()
            rows = [row]
    return [_load(r) for r in rows]


async def signing_key(session: AsyncSession) -> ToolKey:
    return (await tool_keys(session))[0]


async def jwks(session: AsyncSession) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in await tool_keys(session)]}
