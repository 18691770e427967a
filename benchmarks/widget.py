"""The widget in Chromium: bytes it costs a host page, and time to the first rendered token at 1 stream.

    python benchmarks/widget.py      # prints JSON (needs Debian's chromium)

Bytes are what the browser received (gzip where the server sent gzip): on page load (widget.js only), after
the chat first opens (the renderer: marked + DOMPurify), and after replies with code and math (highlight.js
with one language, KaTeX and its fonts). Time to first rendered token: from the send click to the reply's
first text on screen, rendered, in a fresh browser context (renderer loading since the open) and in a warm one.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from common import bench_settings, ingest, median, sciq, sciq_pdf

from tests.servers import api_server
from tutor.ports import free_port

ROUNDS = 10
KEY = "ek_bench_widget_key"
ASK = """async (question) => {
  const root = document.querySelector('[data-ai-tutor]').shadowRoot;
  const log = root.querySelector('.log');
  const before = log.querySelectorAll('.msg.assistant').length;
  root.querySelector('input').value = question;
  return await new Promise((resolve, reject) => {
    let t0 = 0;
    const seen = new MutationObserver(() => {
      const replies = log.querySelectorAll('.msg.assistant .md');
      const md = replies[before];
      if (md && md.textContent.trim()) { seen.disconnect(); resolve(performance.now() - t0); }
      const error = root.querySelector('.error');
      if (error && !error.hidden) { seen.disconnect(); reject(new Error(error.textContent)); }
    });
    seen.observe(root, { childList: true, subtree: true, characterData: true, attributes: true });
    t0 = performance.now();
    root.querySelector('form').requestSubmit();
  });
}"""


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def _serve(directory: Path, port: int) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def run_browser(page_url: str, api: str, questions: list[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    out: dict[str, Any] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=["--no-sandbox", "--disable-gpu"])
        # Bytes, by phase.
        context = browser.new_context()
        page = context.new_page()
        received: list[tuple[str, int]] = []
        page.on("requestfinished", lambda r: received.append((r.url, r.sizes()["responseBodySize"])))
        page.goto(page_url)
        page.wait_for_load_state("networkidle")
        widget = sum(n for url, n in received if url.endswith("/widget.js"))
        mark = len(received)
        page.locator("button.launch").click()
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        opened = sum(n for url, n in received[mark:] if "/widget/" in url)
        page.evaluate(ASK, questions[0])
        page.locator(".chip").first.wait_for()
        mark = len(received)
        # The extractive tutor quotes the course (SciQ: no code, no math): a reply with both, rendered as the widget does.
        page.evaluate(
            """async (api) => { const m = await import(api + '/widget/render.js');
                 const box = document.body.appendChild(document.createElement('div'));
                 const paint = () => box.replaceChildren(m.render('```python\\nprint(1)\\n```\\n\\n$x^2$',
                   { root: document.head, onReady: paint }));
                 paint(); }""",
            api,
        )
        page.wait_for_timeout(2000)
        lazy = {
            url.rsplit("/", 2)[-2] + "/" + url.rsplit("/", 1)[-1]: n for url, n in received[mark:] if "/widget/" in url
        }
        out["bytes"] = {
            "page_load_widget_js": widget,
            "after_first_open_renderer": opened,
            "after_first_open_total": widget + opened,
            "code_and_math_when_first_needed": lazy,
        }
        context.close()

        cold = []
        for question in questions[:ROUNDS]:
            context = browser.new_context()
            page = context.new_page()
            page.goto(page_url)
            page.locator("button.launch").click()
            cold.append(page.evaluate(ASK, question))
            context.close()
        context = browser.new_context()
        page = context.new_page()
        page.goto(page_url)
        page.locator("button.launch").click()
        page.evaluate(ASK, questions[0])
        warm = [page.evaluate(ASK, q) for q in questions[1 : ROUNDS + 1]]
        context.close()
        browser.close()
    out["first_rendered_token_ms"] = {"fresh_context_p50": median(cold), "warm_p50": median(warm), "rounds": ROUNDS}
    return out


async def main() -> None:
    from db.engine import create_engine

    items = sciq()[:60]
    # Every round is a new visitor from 127.0.0.1: the per-address widget budgets would refuse them.
    budgets = {"rate_limit_widget_sessions_per_address_hour": 10**6, "rate_limit_widget_chat_per_address_minute": 10**6}
    async with bench_settings(**budgets) as settings:
        run = await ingest(settings, sciq_pdf(items))
        port = free_port()
        engine = create_engine(settings.database_url or "")
        async with engine.begin() as conn:
            from sqlalchemy import text

            await conn.execute(
                text("UPDATE courses SET metadata = CAST(:m AS JSONB) WHERE course_id = :c"),
                {
                    "m": json.dumps({"embed_key": KEY, "allowed_origins": [f"http://localhost:{port}"]}),
                    "c": run.course_id,
                },
            )
        await engine.dispose()
        with api_server(settings) as api, tempfile.TemporaryDirectory() as site:
            Path(site, "index.html").write_text(
                "<!doctype html><html lang=en><head><title>Host</title></head><body><h1>Host page</h1>"
                f'<script src="{api}/widget.js" data-course="{run.course_id}" data-key="{KEY}" async></script>'
                "</body></html>"
            )
            server = _serve(Path(site), port)
            try:
                questions = [i["question"] for i in items]
                result = await asyncio.to_thread(run_browser, f"http://localhost:{port}/index.html", api, questions)
            finally:
                server.shutdown()
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
