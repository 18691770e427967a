/* The widget's answer renderer, loaded on first use: Markdown, highlighted code and math, always sanitized.

   A reply is model output quoting course text: untrusted. Raw HTML in it is shown as text, never parsed;
   the HTML that Markdown, highlight.js and KaTeX produce goes through DOMPurify before it reaches the page.
   highlight.js languages and KaTeX load only when a reply has code or math. */
const base = new URL(".", import.meta.url).href;
const V = `${base}vendor/`;
const HLJS = `${V}highlightjs-cdn-assets-11.12.0/`;
const KATEX = `${V}katex-0.19.1/`;
export const stylesheets = { code: `${HLJS}styles/github.min.css`, math: `${KATEX}katex.min.css` };

const [{ Marked }, { default: DOMPurify }] = await Promise.all([
  import(`${V}marked-18.2.1/marked.esm.js`),
  import(`${V}dompurify-3.4.18/purify.es.mjs`),
]);

const escapeHtml = (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const markdown = new Marked({ gfm: true, breaks: true, renderer: { html: ({ text }) => escapeHtml(text) } });

const purify = DOMPurify();
// Everything that can fetch, submit or run is out; links open a new tab and cannot reach their opener.
const FORBID_TAGS = ["img", "style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed",
  "video", "audio", "source", "link", "meta", "base", "image", "use", "foreignObject"];
const FORBID_ATTR = ["srcset", "action", "formaction", "xlink:href", "background", "ping"];
purify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    if (!/^(https?:|mailto:|#)/i.test(node.getAttribute("href") || "")) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer nofollow");
  }
});
const clean = (html) => purify.sanitize(html, { FORBID_TAGS, FORBID_ATTR, RETURN_DOM_FRAGMENT: true });

// Languages shipped in vendor/, by every name a fence may use.
const LANGUAGES = { python: ["py", "python3"], javascript: ["js", "jsx", "mjs"], typescript: ["ts", "tsx"],
  bash: ["sh", "shell", "zsh", "console"], sql: [], json: [], xml: ["html", "svg", "xhtml"], java: [], c: ["h"],
  cpp: ["c++", "cc", "hpp"], r: [], css: [], plaintext: ["text", "txt"] };
const LANGUAGE_OF = {};
for (const [name, aliases] of Object.entries(LANGUAGES)) for (const a of [name, ...aliases]) LANGUAGE_OF[a] = name;

let hljs = null, katex = null;
const loading = new Map(); // what is on its way -> its promise
const registered = new Set();

function later(key, load, onReady) {
  if (!loading.has(key)) loading.set(key, load().catch(() => null));
  loading.get(key).then(() => onReady && onReady());
}

function addSheet(root, href) {
  if (!root || root.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  root.appendChild(link);
}

// Math: $$…$$, \[…\], \(…\) and $…$ (no space inside the dollars, no digit after: "$5 and $10" stays text).
// Code spans and fences are matched first, so math-looking text inside code is left alone.
const MATH = /(```[\s\S]*?(?:```|$)|`[^`\n]*`)|\$\$([\s\S]+?)\$\$|\\\[([\s\S]+?)\\\]|\\\(([\s\S]+?)\\\)|\$(?=[^\s$])((?:\\\$|[^$\n])+?)(?<=[^\s\\])\$(?!\d)/g;
const SLOT = /\u2063(\d+)\u2063/g; // an invisible separator around a number marks where a formula goes

function takeMath(text) {
  const found = [];
  const rest = text.replace(MATH, (all, code, display, bracket, paren, inline) => {
    if (code !== undefined) return all;
    found.push({ tex: display ?? bracket ?? paren ?? inline, display: display !== undefined || bracket !== undefined });
    return `\u2063${found.length - 1}\u2063`;
  });
  return { rest, found };
}

function formula(m) {
  if (!katex) return `<code class="tex">${escapeHtml(m.tex)}</code>`;
  // trust: false (KaTeX's default) keeps \href, \url and \htmlClass from producing links or attributes.
  return katex.renderToString(m.tex, { displayMode: m.display, throwOnError: false, output: "htmlAndMathml", trust: false });
}

function highlight(fragment, onReady) {
  for (const code of fragment.querySelectorAll("pre code")) {
    const wanted = (/language-([\w+#-]+)/.exec(code.className) || [])[1];
    const name = wanted && LANGUAGE_OF[wanted.toLowerCase()];
    if (!name) continue;
    if (!hljs || !registered.has(name)) {
      later(`hljs:${name}`, async () => {
        hljs = hljs || (await import(`${HLJS}es/core.min.js`)).default;
        hljs.registerLanguage(name, (await import(`${HLJS}es/languages/${name}.min.js`)).default);
        registered.add(name);
      }, onReady);
      continue;
    }
    const html = hljs.highlight(code.textContent, { language: name, ignoreIllegals: true }).value;
    code.replaceChildren(clean(html));
    code.classList.add("hljs");
  }
}

/** The reply as a sanitized fragment. `root`: where the styles go; `onReady`: called when a late part
    (a language, KaTeX) has loaded and a new render would show more. */
export function render(text, { root, onReady } = {}) {
  const { rest, found } = takeMath(text);
  if (found.length) {
    addSheet(root, stylesheets.math);
    addSheet(document.head, stylesheets.math); // @font-face is ignored inside a shadow root
    if (!katex) later("katex", async () => { katex = (await import(`${KATEX}katex.mjs`)).default; }, onReady);
  }
  let html = markdown.parse(rest);
  if (found.length) html = html.replace(SLOT, (all, n) => (found[Number(n)] ? formula(found[Number(n)]) : all));
  const fragment = clean(html);
  if (fragment.querySelector("pre code")) {
    addSheet(root, stylesheets.code);
    highlight(fragment, onReady);
  }
  return fragment;
}
