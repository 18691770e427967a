"""Answers render in the widget (Markdown, highlighted code, math) as they stream, and nothing in them runs.

Course text and model output are untrusted: a course PDF plants an `onerror` image, a `javascript:` link
and a `<script>`; the extractive tutor quotes them back in its streamed reply. The browser must show them
as text: no dialog opens, no element carries a handler, no link leads to script.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.conftest import REPO, empty_tables
from tests.factories import Chapter, Section, course_pdf, ingest_course, sciq_chapters
from tests.servers import api_server
from tests.widget.test_widget_browser import _serve
from tutor.ports import free_port
from tutor.settings import Settings

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
]
EMBED_KEY = "ek_render_test_key"
ARTIFACTS = REPO / "test-artifacts"
PLANTED = Chapter(
    "Chapter 1: Zebrafish pumps",
    (
        Section(
            "1.1 The zebrafish pump",
            (
                "The zebrafish pump uses **active transport** to move *sodium* ions, drawn as "
                "<img src=x onerror=alert('img')> in the zebrafish notes. "
                "The zebrafish pump rate follows $r = k \\cdot c^2$ as [zebrafish notes](javascript:alert('link')) "
                "and <script>alert('script')</script> say for every zebrafish cell.",
                "Zebrafish live in fresh water and are studied in many laboratories around the world.",
            ),
        ),
    ),
)
QUESTION = "What does the zebrafish pump use, and what rate does the zebrafish pump follow?"
RICH = """Here is **bold**, *emphasis* and `inline code`.

- first item
- second item

| quantity | unit |
| --- | --- |
| force | N |

```python
def area(r):
    return 3.14 * r ** 2
```

Inline math $E = mc^2$ costs $5 and $10, and display math:

$$\\int_0^1 x^2 \\, dx = \\frac{1}{3}$$

<img src=x onerror=alert('raw-img')> <svg onload=alert('svg')></svg> <iframe src="javascript:alert('frame')"></iframe>
[a](javascript:alert('md-link')) [b](JaVaScRiPt:alert('md-link-2')) <a href="javascript:alert('raw-link')">raw</a>
<script>alert('script')</script> <b onclick="alert('click')">clickable</b> $\\href{javascript:alert('tex')}{x}$
"""
# Every element in the widget's log (inside its shadow root) with an on* attribute, a script, a frame, or a
# link whose target is not http(s)/mailto.
HAZARDS = """root => [...root.querySelectorAll('*')].filter(e =>
    [...e.attributes].some(a => a.name.toLowerCase().startsWith('on'))
    || ['SCRIPT', 'IFRAME', 'IMG', 'OBJECT', 'EMBED'].includes(e.tagName.toUpperCase())
    || (e.getAttribute('href') || '').trim().toLowerCase().startsWith('javascript')
    || (e.getAttribute('xlink:href') || '').trim().toLowerCase().startsWith('javascript')
  ).map(e => e.outerHTML.slice(0, 120))"""


@pytest.fixture(scope="module")
def host_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
async def planted_course(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine, host_port: int
) -> AsyncIterator[int]:
    pdf = course_pdf([PLANTED, *sciq_chapters(1, 2, 2)])
    course_id = await ingest_course(settings, sessions, [("zebrafish.pdf", pdf)], title="Zebrafish")
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


@pytest.fixture(scope="module")
def site(
    settings: Settings, planted_course: int, host_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(host page with the widget, the API's base URL): the page on localhost, the API on 127.0.0.1."""
    with api_server(settings) as api:
        root = tmp_path_factory.mktemp("render-site")
        (root / "index.html").write_text(
            "<!doctype html><html lang=en><head><title>Zebrafish class</title></head><body><h1>Class</h1>"
            f'<script src="{api}/widget.js" data-course="{planted_course}" data-key="{EMBED_KEY}" async></script>'
            "</body></html>"
        )
        (root / "blank.html").write_text(
            "<!doctype html><html lang=en><head><title>b</title></head><body></body></html>"
        )
        server = _serve(root, host_port)
        try:
            yield f"http://localhost:{host_port}/index.html", api
        finally:
            server.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync"]
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
        yield chromium
        chromium.close()


def test_planted_script_in_course_text_is_shown_as_text_and_never_runs_while_markdown_and_math_render(
    site: tuple[str, str], browser: Any
) -> None:
    page_url, _ = site
    context = browser.new_context(viewport={"width": 420, "height": 860})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_url)
    page.locator("button.launch").click()
    # Per frame, how much of the reply is on screen: it must only grow (no blanking between renders).
    page.locator(".log").evaluate(
        """log => { window.__shown = []; const tick = () => { const m = log.querySelector('.msg.assistant .md');
           if (m) window.__shown.push(m.textContent.length); requestAnimationFrame(tick); }; tick(); }"""
    )
    page.locator("input[name=q]").fill(QUESTION)
    page.keyboard.press("Enter")
    reply = page.locator(".msg.assistant").last
    reply.locator(".chip").first.wait_for(timeout=60_000)
    reply.locator(".katex").first.wait_for(timeout=30_000)  # KaTeX loaded on first use; the formula re-rendered

    md = reply.locator(".md")
    assert md.locator("strong", has_text="active transport").count() == 1
    assert md.locator("em", has_text="sodium").count() == 1
    shown = md.inner_text()
    assert "<img src=x onerror=alert('img')>" in shown and "<script>alert('script')</script>" in shown
    assert page.locator(".log").evaluate(HAZARDS) == []
    links = md.locator("a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert links.count() == 1 and hrefs == [None]  # the javascript: link kept its words, lost its target
    sizes = page.evaluate("window.__shown")
    assert sizes and all(b >= a for a, b in itertools.pairwise(sizes)), sizes
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "widget-rendered-answer.png"))

    # The chip opens the PDF at the cited page, through its signed link.
    chip = reply.locator("a.chip").first
    assert "#page=" in (chip.get_attribute("href") or "") and chip.get_attribute("target") == "_blank"
    with context.expect_page() as opened:
        chip.click()
    pdf = opened.value
    pdf.wait_for_load_state()
    assert "/api/sources/" in pdf.url and "#page=" in pdf.url
    assert dialogs == []
    context.close()


def test_the_renderer_draws_lists_tables_highlighted_code_and_math_and_strips_every_script_vector(
    site: tuple[str, str], browser: Any
) -> None:
    page_url, api = site
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(page_url.replace("index.html", "blank.html"))
    # The module, imported from the API's origin by a page of another origin, as the widget does.
    page.evaluate(
        """async ([api, text]) => {
             const m = await import(api + '/widget/render.js');
             const box = document.createElement('div'); box.id = 'box'; document.body.appendChild(box);
             const paint = () => box.replaceChildren(m.render(text, { root: document.head, onReady: paint }));
             paint();
           }""",
        [api, RICH],
    )
    box = page.locator("#box")
    box.locator("pre code .hljs-keyword").first.wait_for(timeout=30_000)  # python loaded on first use
    box.locator(".katex-display").first.wait_for(timeout=30_000)
    assert box.locator("strong").first.inner_text() == "bold" and box.locator("em").first.inner_text() == "emphasis"
    assert box.locator("ul > li").count() == 2
    assert box.locator("table th").all_inner_texts() == ["quantity", "unit"]
    assert box.locator("pre code.language-python .hljs-keyword", has_text="def").count() == 1
    assert box.locator(".katex").count() >= 2  # E = mc^2 inline, the integral displayed
    assert "$5 and $10" in box.inner_text()  # prices are not formulas
    assert box.evaluate(HAZARDS) == []
    assert "clickable" in box.inner_text()
    page.wait_for_timeout(300)  # let anything that would fire (an onerror, an onload) have its chance
    assert dialogs == []
    page.close()
