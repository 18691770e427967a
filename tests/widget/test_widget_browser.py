"""The widget in a real browser (Debian's Chromium via Playwright), embedded in a page of another origin."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import REPO, empty_tables
from tests.factories import course_pdf, ingest_course, sciq_chapters, sciq_items
from tests.servers import api_server
from tutor.ports import free_port
from tutor.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
EMBED_KEY = "ek_widget_test_key"
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="module")
def host_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def widget_course(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, host_port: int
) -> AsyncIterator[int]:
    course_id = await ingest_course(settings, sessions, [("biology.pdf", course_pdf(sciq_chapters(2, 2, 2)))])
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE courses SET metadata = CAST(:m AS JSONB) WHERE course_id = :c"),
            {
                "m": f'{{"embed_key": "{EMBED_KEY}", "allowed_origins": ["http://localhost:{host_port}"]}}',
                "c": course_id,
            },
        )
    yield course_id
    await empty_tables(engine)


def _serve(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def pages(
    settings: Settings, widget_course: int, host_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str, str]]:
    """A host page on localhost (allowed), the same page on 127.0.0.1 (not allowed), and the API's base URL."""
    with api_server(settings) as api:
        site = tmp_path_factory.mktemp("site")
        (site / "index.html").write_text(
            "<!doctype html><html><head><title>A school page</title><style>div{color:red!important}</style></head>"
            "<body><h1>Welcome to class</h1><p>Our course notes live here.</p>"
            f'<script src="{api}/widget.js" data-course="{widget_course}" data-key="{EMBED_KEY}" async></script>'
            "</body></html>"
        )
        allowed, refused = _serve(site, host_port), _serve(site, free_port())
        try:
            yield (
                f"http://localhost:{host_port}/index.html",
                f"http://127.0.0.1:{refused.server_port}/index.html",
                api,
            )
        finally:
            allowed.shutdown()
            refused.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


def test_a_visitor_asks_sees_a_cited_streamed_answer_takes_a_quiz_question_and_keeps_history(
    pages: tuple[str, str, str], browser: object
) -> None:
    allowed, _, _ = pages
    context = browser.new_context(viewport={"width": 390, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(allowed)
    launcher = page.locator("button.launch")
    launcher.click()
    item = sciq_items()[3]
    page.locator("input[name=q]").fill(item["question"])
    page.keyboard.press("Enter")
    answer = page.locator(".msg.assistant").last
    answer.locator(".chip").first.wait_for(timeout=60_000)
    assert item["correct_answer"].lower() in answer.inner_text().lower()
    assert "biology.pdf, p." in answer.locator(".chip").first.inner_text()
    assert page.locator("[role=dialog]").get_attribute("aria-label") == "Course tutor chat"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-open.png"))

    page.locator("input[name=q]").fill("quiz me on week 1")
    page.keyboard.press("Enter")
    option = page.locator(".options button").first
    option.wait_for(timeout=30_000)
    option.click()
    page.locator(".msg.assistant", has_text="Correct").or_(
        page.locator(".msg.assistant", has_text="Not quite")
    ).first.wait_for(timeout=30_000)
    # The host page's styles did not reach into the widget.
    assert page.locator(".msg.assistant").first.evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"

    page.reload()
    page.locator("button.launch").click()
    page.locator(".msg.user").nth(2).wait_for(timeout=30_000)  # question, quiz request, tapped option
    assert item["question"] in page.locator(".msg.user").first.inner_text()
    context.close()


def test_a_page_whose_origin_is_not_on_the_allow_list_is_refused(
    pages: tuple[str, str, str], browser: object, widget_course: int
) -> None:
    import httpx

    _, refused, api = pages
    origin = refused.rsplit("/", 1)[0]
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.startswith(api) else None)
    page.goto(refused)
    page.locator("button.launch").click()
    page.locator("input[name=q]").fill("What is anemia?")
    page.keyboard.press("Enter")
    error = page.locator(".error")
    error.wait_for(state="visible", timeout=30_000)  # the browser refused the API's answer: no CORS grant
    assert error.inner_text().strip()
    assert page.locator(".msg.assistant").first.inner_text().strip() == ""
    context.close()
    # The widget did ask the API, and the API (up and answering) refuses this origin: not a network failure.
    assert f"{api}/api/widget/session" in asked
    body = {"course_id": widget_course, "embed_key": EMBED_KEY, "visitor_id": "probe-visitor-1"}
    preflight = httpx.options(
        f"{api}/api/widget/session",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    direct = httpx.post(f"{api}/api/widget/session", headers={"Origin": origin}, json=body)
    assert direct.status_code == 403 and direct.json()["error"]["code"] == "origin_not_allowed"
