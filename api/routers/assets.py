"""The widget's lazily loaded files: its renderer and the pinned front-end libraries in static/vendor/.

Host pages of any origin import them as ES modules, which browsers fetch with CORS: they are public,
credential-free files, so any origin may read them. Vendored paths carry their version: cached for good.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tutor.errors import NotFoundError

router = APIRouter(tags=["widget"])
STATIC = Path(__file__).resolve().parents[1] / "static"
SERVED = {"render.js"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".woff2": "font/woff2"}
COMPRESSIBLE = {".js", ".mjs", ".css"}


@lru_cache(maxsize=128)
def _read(path: Path) -> tuple[bytes, bytes]:
    """The file and its gzip, read once per process (the files change only with a release)."""
    body = path.read_bytes()
    return body, gzip.compress(body, 9, mtime=0)


def _resolve(name: str) -> Path:
    path = (STATIC / name).resolve()
    vendor = (STATIC / "vendor").resolve()
    if (name in SERVED or path.is_relative_to(vendor)) and path.suffix in TYPES and path.is_file():
        return path
    raise NotFoundError("asset_not_found", f"no widget file {name}")


def static_file(path: Path, request: Request, *, cache: str) -> Response:
    """A static file, gzipped when the browser accepts it, readable from any origin."""
    body, zipped = _read(path)
    headers = {
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": cache,
        "Vary": "Accept-Encoding",
    }
    if path.suffix in COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        body = zipped
    return Response(body, media_type=TYPES[path.suffix], headers=headers)


@router.get("/widget/{name:path}", include_in_schema=False)
async def widget_asset(name: str, request: Request) -> Response:
    immutable = name.startswith("vendor/")  # versioned paths
    cache = "public, max-age=31536000, immutable" if immutable else "public, max-age=300"
    return static_file(_resolve(name), request, cache=cache)
