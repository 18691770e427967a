"""A simulated LMS for the LTI tests: its own RSA key and JWKS, an OAuth2 token endpoint that checks the tool's
signed client assertion, AGS line items and scores, and an NRPS roster, served over HTTP on loopback."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from tutor.lti import claims as c
from tutor.ports import free_port

CLIENT_ID = "tutor-client-1"
DEPLOYMENT = "deployment-1"
KID = "lms-key-1"


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class Platform:
    url: str = ""
    key: rsa.RSAPrivateKey = field(default_factory=new_key)
    tool_jwks: dict[str, Any] = field(default_factory=dict)  # the tool's keys, as the LMS fetched them
    line_items: list[dict[str, Any]] = field(default_factory=list)
    scores: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (line item id, score)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> scopes granted
    fail_scores: int = 0  # answer this many score posts with 503 first
    members: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def issuer(self) -> str:
        return self.url

    def id_token(self, nonce: str, *, sub: str, roles: list[str], message_type: str, **extra: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": f"Person {sub}",
            c.MESSAGE_TYPE: message_type,
            c.VERSION: "1.3.0",
            c.DEPLOYMENT_ID: DEPLOYMENT,
            c.ROLES: roles,
            c.CONTEXT: {"id": "ctx-bio-101", "label": "BIO101", "title": "Biology <101>"},
            c.NRPS: {"context_memberships_url": f"{self.url}/memberships", "service_versions": ["2.0"]},
            **extra,
        }
        return self.sign(claims)

    def sign(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": KID})

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]}

    def verify_tool_jwt(self, token: str, audience: str) -> dict[str, Any]:
        kid = jwt.get_unverified_header(token)["kid"]
        jwk = next(k for k in self.tool_jwks["keys"] if k["kid"] == kid)
        key = jwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(jwk))
        return jwt.decode(token, key, algorithms=["RS256"], audience=audience)  # type: ignore[arg-type]


def _handler(p: Platform) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _send(
            self, status: int, body: Any, media: str = "application/json", headers: dict[str, str] | None = None
        ) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", media)
            self.send_header("Content-Length", str(len(raw)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(raw)

        def _scopes(self) -> str | None:
            auth = self.headers.get("Authorization", "")
            return p.tokens.get(auth.removeprefix("Bearer "))

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/jwks":
                return self._send(200, p.jwks())
            scopes = self._scopes()
            if url.path == "/lineitems" and scopes and c.SCOPE_LINEITEM in scopes:
                wanted = query.get("resource_id", [None])[0]
                items = [i for i in p.line_items if wanted is None or i.get("resourceId") == wanted]
                return self._send(200, items, c.LINEITEMS_MEDIA)
            if url.path == "/memberships" and scopes and c.SCOPE_NRPS in scopes:
                page = int(query.get("page", ["1"])[0])
                half = len(p.members) // 2
                members = p.members[:half] if page == 1 else p.members[half:]
                link = {"Link": f'<{p.url}/memberships?page=2>; rel="next"'} if page == 1 else {}
                body = {"id": f"{p.url}/memberships", "context": {"id": "ctx-bio-101"}, "members": members}
                return self._send(200, body, c.MEMBERSHIPS_MEDIA, link)
            self._send(401 if scopes is None else 404, {"error": "no"})

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            body = self._body()
            if url.path == "/token":
                form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                try:
                    claims = p.verify_tool_jwt(form["client_assertion"], f"{p.url}/token")
                except (jwt.PyJWTError, KeyError, StopIteration):
                    return self._send(401, {"error": "invalid_client"})
                if (
                    claims["iss"] != CLIENT_ID
                    or claims["sub"] != CLIENT_ID
                    or form["grant_type"] != "client_credentials"
                ):
                    return self._send(400, {"error": "invalid_request"})
                token = uuid.uuid4().hex
                p.tokens[token] = form["scope"]
                return self._send(200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600})
            scopes = self._scopes()
            if scopes is None:
                return self._send(401, {"error": "no token"})
            if url.path == "/lineitems" and c.SCOPE_LINEITEM in scopes:
                item = {**json.loads(body), "id": f"{p.url}/lineitems/{len(p.line_items) + 1}"}
                with p.lock:
                    p.line_items.append(item)
                return self._send(201, item, c.LINEITEM_MEDIA)
            if url.path.endswith("/scores") and c.SCOPE_SCORE in scopes:
                assert self.headers["Content-Type"] == c.SCORE_MEDIA
                with p.lock:
                    if p.fail_scores > 0:
                        p.fail_scores -= 1
                        return self._send(503, {"error": "maintenance"})
                    p.scores.append((f"{p.url}{url.path.removesuffix('/scores')}", json.loads(body)))
                return self._send(200, {})
            self._send(403, {"error": "scope"})

        def log_message(self, *args: object) -> None:
            pass

    return Handler


def serve(platform: Platform) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(_handler(platform)))
    platform.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
