"""Calling the LMS's LTI Advantage services: an OAuth2 access token by client credentials with a JWT signed by
the tool's key (cached until shortly before it expires), and JSON requests with it."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from db.models import LtiPlatform
from tutor.errors import TutorError
from tutor.lti.keys import ToolKey

TIMEOUT_S = 10.0


class ServiceError(TutorError):
    """The LMS refused or failed a service call. `permanent`: asking again will not help (a 4xx)."""

    status = 502

    def __init__(self, code: str, message: str, *, permanent: bool) -> None:
        super().__init__(code, message)
        self.permanent = permanent


def _failed(what: str, response: httpx.Response) -> ServiceError:
    # 408/429 and 5xx are the LMS's passing trouble; any other 4xx is our request it will refuse again.
    permanent = 400 <= response.status_code < 500 and response.status_code not in (401, 408, 429)
    return ServiceError("lti_service_failed", f"the LMS answered {response.status_code} to {what}", permanent=permanent)


@dataclass
class AccessTokens:
    """Access tokens per platform and scope set, kept until 60 s before they expire (one process's cache). No lock:
    two sends racing for a first token each ask for one, which is harmless; a lock would tie the cache to one
    event loop."""

    _cache: dict[tuple[int, str], tuple[float, str]] = field(default_factory=dict)

    async def get(self, client: httpx.AsyncClient, platform: LtiPlatform, key: ToolKey, scopes: list[str]) -> str:
        scope = " ".join(sorted(set(scopes)))
        cached = self._cache.get((platform.id, scope))
        if cached is not None and time.monotonic() < cached[0]:
            return cached[1]
        assertion = key.sign({"iss": platform.client_id, "sub": platform.client_id, "aud": platform.token_url})
        try:
            response = await client.post(
                platform.token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    "client_assertion": assertion,
                    "scope": scope,
                },
            )
        except httpx.HTTPError as exc:
            raise ServiceError("lti_token_failed", f"the LMS's token endpoint: {exc}", permanent=False) from None
        if response.status_code != 200:
            raise _failed("the access token request", response)
        body = response.json()
        token = str(body["access_token"])
        ttl = float(body.get("expires_in") or 3600)
        self._cache[(platform.id, scope)] = (time.monotonic() + max(0.0, ttl - 60), token)
        return token

    def forget(self, platform_id: int) -> None:
        for k in [k for k in self._cache if k[0] == platform_id]:
            del self._cache[k]


async def call(
    client: httpx.AsyncClient,
    tokens: AccessTokens,
    platform: LtiPlatform,
    key: ToolKey,
    scopes: list[str],
    method: str,
    url: str,
    *,
    accept: str,
    json_body: Any = None,
    content_type: str | None = None,
    what: str,
) -> httpx.Response:
    """One service request; a 401 (the LMS revoked the token early) asks for a new token once."""
    for attempt in range(2):
        token = await tokens.get(client, platform, key, scopes)
        headers = {"Authorization": f"Bearer {token}", "Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            response = await client.request(method, url, headers=headers, json=json_body)
        except httpx.HTTPError as exc:
            raise ServiceError("lti_service_failed", f"{what}: {exc}", permanent=False) from None
        if response.status_code == 401 and attempt == 0:
            tokens.forget(platform.id)
            continue
        if response.status_code >= 400:
            raise _failed(what, response)
        return response
    raise AssertionError("unreachable")


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT_S, follow_redirects=False)
