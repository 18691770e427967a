/* AI Tutor chat widget: one <script> tag, a launcher and a chat panel in a shadow root (styles never leak). */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script) return;
  const course = Number(script.dataset.course);
  const key = script.dataset.key || "";
  const api = new URL(script.src).origin;
  const store = window.localStorage;
  const visitorKey = "ai-tutor:visitor";
  const sessionKey = `ai-tutor:session:${course}`;
  let visitor = store.getItem(visitorKey);
  if (!visitor) {
    visitor = (crypto.randomUUID && crypto.randomUUID()) || String(Math.random()).slice(2);
    store.setItem(visitorKey, visitor);
  }
  let token = null;
  let controller = null;
  let renderer = null; // render.js, imported when the chat first opens: the page's first load stays small
  let rendererLoading = null;
  let opened = false;

  const host = document.createElement("div");
  host.setAttribute("data-ai-tutor", "");
  const root = host.attachShadow({ mode: "open" });
  root.innerHTML = `
<style>
  :host { all: initial; }
  * { box-sizing: border-box; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
  .launch { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; border: 0; border-radius: 28px;
    padding: 12px 18px; background: #1f5eff; color: #fff; font-weight: 600; cursor: pointer; box-shadow: 0 4px 14px #0003; }
  .panel { position: fixed; right: 20px; bottom: 80px; z-index: 2147483000; width: 380px; max-width: calc(100vw - 24px);
    height: 560px; max-height: calc(100vh - 100px); display: none; flex-direction: column; background: #fff; color: #111;
    border-radius: 14px; box-shadow: 0 10px 40px #0004; overflow: hidden; }
  .panel[data-open] { display: flex; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 10px 14px; background: #1f5eff; color: #fff; }
  header button { background: none; border: 0; color: #fff; font-size: 20px; cursor: pointer; }
  .log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
  .msg { padding: 8px 11px; border-radius: 12px; max-width: 88%; white-space: pre-wrap; word-wrap: break-word; }
  .user { align-self: flex-end; background: #e8eeff; }
  .assistant { align-self: flex-start; background: #f3f3f3; }
  .md { white-space: normal; overflow-x: auto; }
  .md * { font: inherit; } /* the panel's reset gave every element one font; KaTeX's own rules load after this */
  .md strong, .md b, .md th, .md h1, .md h2, .md h3, .md h4 { font-weight: 700; } .md em, .md i { font-style: italic; }
  .md h1, .md h2 { font-size: 1.15em; } .md h3, .md h4 { font-size: 1.05em; }
  .md.plain { white-space: pre-wrap; }
  .md > :first-child { margin-top: 0; } .md > :last-child { margin-bottom: 0; }
  .md p, .md ul, .md ol, .md pre, .md table, .md blockquote { margin: 0 0 .6em; }
  .md ul, .md ol { padding-left: 1.3em; }
  .md pre { background: #fff; border: 1px solid #dde; border-radius: 6px; padding: 8px; overflow-x: auto; }
  .md code, .md pre * { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
  .md :not(pre) > code { background: #e6e6ee; border-radius: 4px; padding: 0 3px; }
  .md table { border-collapse: collapse; display: block; overflow-x: auto; }
  .md th, .md td { border: 1px solid #ccd; padding: 3px 7px; text-align: left; }
  .md blockquote { border-left: 3px solid #ccd; padding-left: 8px; color: #444; }
  .md a[href] { color: #1a4fd6; }
  .md .katex-display { overflow-x: auto; overflow-y: hidden; padding: 2px 0; }
  .chips { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }
  .chip { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #fff; border: 1px solid #ccd; color: #111; }
  a.chip { color: #1a4fd6; text-decoration: none; } a.chip:hover { text-decoration: underline; }
  .options { display: flex; flex-direction: column; gap: 6px; margin-top: 8px; }
  .options button { text-align: left; padding: 7px 10px; border: 1px solid #1f5eff; border-radius: 8px; background: #fff; cursor: pointer; }
  .options button:disabled { opacity: .5; cursor: default; }
  form { display: flex; gap: 6px; padding: 10px; border-top: 1px solid #eee; }
  input { flex: 1; padding: 9px 10px; border: 1px solid #ccc; border-radius: 8px; }
  form button { padding: 9px 12px; border: 0; border-radius: 8px; background: #1f5eff; color: #fff; cursor: pointer; }
  .error { color: #b00020; font-size: 13px; padding: 0 12px 8px; }
  button:focus-visible, input:focus-visible { outline: 3px solid #ffbf47; outline-offset: 1px; }
  @media (max-width: 480px) { .panel { right: 0; bottom: 0; width: 100vw; max-width: 100vw; height: 100vh; max-height: 100vh; border-radius: 0; } }
</style>
<button class="launch" aria-haspopup="dialog" aria-expanded="false">Ask the tutor</button>
<section class="panel" role="dialog" aria-modal="false" aria-label="Course tutor chat">
  <header><strong>Course tutor</strong><button class="close" aria-label="Close chat">×</button></header>
  <div class="log" role="log" aria-live="polite" aria-relevant="additions text"></div>
  <div class="error" role="alert" hidden></div>
  <form><label hidden for="q">Your question</label><input id="q" name="q" autocomplete="off" placeholder="Ask about the course…" aria-label="Your question">
  <button type="submit" class="send">Send</button><button type="button" class="stop" hidden>Stop</button></form>
</section>`;
  const $ = (s) => root.querySelector(s);
  const panel = $(".panel"), launcher = $(".launch"), log = $(".log"), input = $("input"), errorBox = $(".error");
  const stopButton = $(".stop"), sendButton = $(".send");

  function loadRenderer() {
    rendererLoading = rendererLoading || import(`${api}/widget/render.js`).then((m) => (renderer = m)).catch(() => null);
    return rendererLoading;
  }

  function open(state) {
    if (state && !opened) {
      opened = true;
      loadRenderer();
      restore().catch((e) => showError(e.message));
    }
    if (state) panel.setAttribute("data-open", ""); else panel.removeAttribute("data-open");
    launcher.setAttribute("aria-expanded", String(state));
    if (state) input.focus(); else launcher.focus();
  }
  launcher.addEventListener("click", () => open(!panel.hasAttribute("data-open")));
  $(".close").addEventListener("click", () => open(false));
  panel.addEventListener("keydown", (e) => { if (e.key === "Escape") open(false); });

  function showError(text) { errorBox.textContent = text; errorBox.hidden = !text; }

  function bubble(role, text) {
    const div = document.createElement("div");
    div.className = `msg ${role}`;
    if (role === "assistant") {
      div.appendChild(document.createElement("div")).className = "md";
      if (text) paint(div, text);
    } else div.textContent = text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
    return div;
  }

  // A reply's text, rendered whole each time (Markdown needs the whole text) and swapped in one step.
  function paint(div, text) {
    const md = div.firstChild;
    md._text = text;
    if (!renderer) { md.className = "md plain"; md.textContent = text; return; }
    md.className = "md";
    md.replaceChildren(renderer.render(text, { root, onReady: () => md._text === text && paint(div, text) }));
  }

  // Tokens arrive faster than frames: paint at most once a frame.
  function painter(div) {
    let text = "", queued = false;
    return (delta) => {
      text += delta;
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => { queued = false; paint(div, text); log.scrollTop = log.scrollHeight; });
    };
  }

  function chips(parent, citations) {
    if (!citations.length) return;
    const row = document.createElement("div");
    row.className = "chips";
    for (const c of citations) {
      const chip = document.createElement(c.file_id ? "a" : "span");
      chip.className = "chip";
      const pages = c.page_start === c.page_end ? `p. ${c.page_start}` : `pp. ${c.page_start}-${c.page_end}`;
      chip.textContent = `[${c.number}] ${c.filename}, ${pages}`;
      chip.title = c.snippet || "";
      if (c.file_id) {
        chip.href = c.url ? api + c.url : "#";
        chip.target = "_blank";
        chip.rel = "noopener noreferrer";
        chip.addEventListener("click", (e) => openSource(e, chip, c));
      }
      row.appendChild(chip);
    }
    parent.appendChild(row);
  }

  // A chip's signed link lasts minutes; an older one (a restored chat) is replaced by a fresh one on click.
  function openSource(e, chip, c) {
    const exp = Number(new URL(chip.href, api).searchParams.get("exp") || 0);
    if (exp * 1000 > Date.now() + 5000) return; // the link opens itself
    e.preventDefault();
    const tab = window.open("about:blank", "_blank"); // opened within the click, so no popup blocker objects
    session()
      .then((t) => fetch(`${api}/api/widget/source-links`, {
        method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${t}` },
        body: JSON.stringify({ course_id: course, file_id: c.file_id, page: c.page_start }),
      }))
      .then(async (r) => { const b = await r.json(); if (!r.ok) throw new Error(b.error ? b.error.message : r.status); return b; })
      .then((b) => { chip.href = api + b.url; if (tab) { tab.opener = null; tab.location = chip.href; } })
      .catch((err) => { if (tab) tab.close(); showError(err.message); });
  }

  function options(parent, q) {
    const box = document.createElement("div");
    box.className = "options";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", `Options for question ${q.number}`);
    for (const [letter, text] of Object.entries(q.options)) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${letter}) ${text}`;
      b.addEventListener("click", () => {
        box.querySelectorAll("button").forEach((x) => (x.disabled = true));
        send(letter, { question_number: q.number });
      });
      box.appendChild(b);
    }
    parent.appendChild(box);
  }

  async function session() {
    if (token) return token;
    const r = await fetch(`${api}/api/widget/session`, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ course_id: course, embed_key: key, visitor_id: visitor, token: script.dataset.token || null }),
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error((body.error && body.error.message) || `the tutor is unavailable (${r.status})`);
    token = body.token;
    return token;
  }

  async function restore() {
    const id = store.getItem(sessionKey);
    if (!id) return;
    await loadRenderer();
    const r = await fetch(`${api}/api/chat/sessions/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${await session()}` } });
    if (!r.ok) { store.removeItem(sessionKey); return; }
    for (const m of (await r.json()).messages) {
      const div = bubble(m.message_type === "user" ? "user" : "assistant", m.message);
      if (m.metadata && m.metadata.citations) chips(div, m.metadata.citations);
    }
  }

  async function send(message, extra = {}) {
    showError("");
    bubble("user", message);
    const reply = bubble("assistant", "");
    const write = painter(reply);
    const cited = [];
    controller = new AbortController();
    stopButton.hidden = false; sendButton.disabled = true;
    try {
      const r = await fetch(`${api}/api/chat/stream`, {
        method: "POST", signal: controller.signal,
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${await session()}` },
        body: JSON.stringify({ course_id: course, message, session_id: store.getItem(sessionKey), ...extra }),
      });
      if (!r.ok) { const b = await r.json().catch(() => ({})); throw new Error((b.error && b.error.message) || `error ${r.status}`); }
      await loadRenderer(); // loading since the chat opened; its first token renders as it will stay
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut); buffer = buffer.slice(cut + 2);
          const name = (block.match(/^event: ?(.*)$/m) || [])[1];
          const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).join("\n");
          if (!name || !data) continue;
          const event = JSON.parse(data);
          if (name === "meta") store.setItem(sessionKey, event.session_id);
          else if (name === "token") write(event.text);
          else if (name === "citation") cited.push(event);
          else if (name === "quiz_question") options(reply, event);
          else if (name === "error") showError(event.message);
        }
      }
      chips(reply, cited);
    } catch (e) {
      if (e.name !== "AbortError") showError(e.message);
    } finally {
      controller = null; stopButton.hidden = true; sendButton.disabled = false;
    }
  }

  stopButton.addEventListener("click", () => controller && controller.abort());
  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = "";
    send(text);
  });

  const mount = () => document.body.appendChild(host);
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
