// The student's course page: the chat on the same SSE stream as the widget, answers through the widget's renderer.
const main = document.querySelector("main");
const course = Number(main.dataset.course);
const $ = (s) => document.querySelector(s);
const log = $(".log"), form = $(".ask"), input = $("#question"), problem = $(".problem");
const stopButton = $(".stop"), sendButton = $(".send");
let sessionId = null, controller = null;
const renderer = import("/widget/render.js").catch(() => null);
// The JSON API takes this page's session cookie; a request that changes something names the session's CSRF token.
const auth = { "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content };

function showProblem(text) { problem.textContent = text; problem.hidden = !text; }

async function paint(div, text) {
  const md = div.querySelector(".md");
  md.dataset.text = text;
  const r = await renderer;
  if (md.dataset.text !== text) return; // a newer text is on its way
  if (!r) { md.className = "md plain"; md.textContent = text; return; }
  md.replaceChildren(r.render(text, { root: document.head, onReady: () => paint(div, text) }));
}

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

function chips(parent, citations) {
  if (!citations.length) return;
  const row = parent.appendChild(document.createElement("div"));
  row.className = "chips";
  for (const c of citations) {
    const chip = row.appendChild(document.createElement(c.file_id ? "a" : "span"));
    chip.className = "chip";
    const pages = c.page_start === c.page_end ? `p. ${c.page_start}` : `pp. ${c.page_start}-${c.page_end}`;
    chip.textContent = `[${c.number}] ${c.filename}, ${pages}`;
    chip.title = c.snippet || "";
    if (!c.file_id) continue;
    chip.href = c.url || "#";
    chip.target = "_blank";
    chip.rel = "noopener noreferrer";
    chip.addEventListener("click", (e) => openSource(e, chip, c));
  }
}

// A chip's signed link lasts minutes: an older one (a conversation reopened later) is replaced on click.
function openSource(e, chip, c) {
  const exp = Number(new URL(chip.href, location.href).searchParams.get("exp") || 0);
  if (exp * 1000 > Date.now() + 5000) return;
  e.preventDefault();
  const tab = window.open("about:blank", "_blank");
  fetch("/api/widget/source-links", {
    method: "POST", headers: { ...auth, "Content-Type": "application/json" },
    body: JSON.stringify({ course_id: course, file_id: c.file_id, page: c.page_start }),
  }).then(async (r) => {
    const b = await r.json();
    if (!r.ok) throw new Error(b.error ? b.error.message : r.status);
    chip.href = b.url;
    if (tab) { tab.opener = null; tab.location = b.url; }
  }).catch((err) => { if (tab) tab.close(); showProblem(err.message); });
}

function options(parent, q) {
  const box = parent.appendChild(document.createElement("div"));
  box.className = "options";
  box.setAttribute("role", "group");
  box.setAttribute("aria-label", `Options for question ${q.number}`);
  for (const [letter, text] of Object.entries(q.options)) {
    const b = box.appendChild(document.createElement("button"));
    b.type = "button";
    b.textContent = `${letter}) ${text}`;
    b.addEventListener("click", () => {
      box.querySelectorAll("button").forEach((x) => (x.disabled = true));
      send(letter, { question_number: q.number });
    });
  }
}

// The outline and reviews change with every graded answer: fetch them again and swap them in.
async function refreshPanel() {
  const r = await fetch(`/learn/${course}/panel`, { headers: { Accept: "text/html" } });
  if (!r.ok) return;
  const doc = new DOMParser().parseFromString(await r.text(), "text/html");
  $("#panel").replaceChildren(...doc.body.childNodes);
}

async function send(message, extra = {}) {
  if (controller) return;
  showProblem("");
  bubble("user", message);
  const reply = bubble("assistant", "");
  const cited = [];
  let text = "", queued = false, graded = false;
  controller = new AbortController();
  stopButton.hidden = false; sendButton.disabled = true;
  try {
    const r = await fetch("/api/chat/stream", {
      method: "POST", signal: controller.signal, headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ course_id: course, message, session_id: sessionId, ...extra }),
    });
    if (!r.ok) { const b = await r.json().catch(() => ({})); throw new Error((b.error && b.error.message) || `error ${r.status}`); }
    await renderer;
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
        if (name === "meta") sessionId = event.session_id;
        else if (name === "token") {
          text += event.text;
          if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; paint(reply, text); log.scrollTop = log.scrollHeight; }); }
        } else if (name === "citation") cited.push(event);
        else if (name === "quiz_question") options(reply, event);
        else if (name === "quiz_feedback" || name === "quiz_result") graded = true;
        else if (name === "error") showProblem(event.message);
      }
    }
    await paint(reply, text);
    chips(reply, cited);
    if (graded) refreshPanel();
  } catch (e) {
    if (e.name !== "AbortError") showProblem(e.message);
  } finally {
    controller = null; stopButton.hidden = true; sendButton.disabled = false;
  }
}

async function openSession(id) {
  const r = await fetch(`/api/chat/sessions/${encodeURIComponent(id)}`, { headers: auth });
  if (!r.ok) { showProblem("That conversation could not be opened."); return; }
  sessionId = id;
  log.replaceChildren();
  for (const m of (await r.json()).messages) {
    const div = bubble(m.message_type === "user" ? "user" : "assistant", m.message);
    if (m.metadata && m.metadata.citations) chips(div, m.metadata.citations);
  }
  input.focus();
}

form.addEventListener("submit", (e) => {
  e.preventDefault();
  const message = input.value.trim();
  if (!message || controller) return;
  input.value = "";
  send(message);
});
stopButton.addEventListener("click", () => controller && controller.abort());
$("#new-chat").addEventListener("click", () => { sessionId = null; log.replaceChildren(); input.focus(); });
document.addEventListener("click", (e) => {
  const target = e.target instanceof Element ? e.target.closest("button") : null;
  if (!target) return;
  if (target.dataset.session) openSession(target.dataset.session);
  else if (target.dataset.say) {
    // A quiz or a review starts a conversation of its own, then the chat is where it runs.
    sessionId = null;
    log.replaceChildren();
    $("#chat").focus();
    send(target.dataset.say, target.dataset.quiz ? { quiz_id: target.dataset.quiz } : {});
  }
});
