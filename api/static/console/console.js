// Small enhancements shared by every console page. No inline scripts: the page's CSP forbids them.

// A form or button marked data-confirm asks first (the server still requires the CSRF token either way).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});

// After a move, keep keyboard focus on the same button so the next press moves the item again.
const params = new URLSearchParams(location.search);
const moved = params.get("moved");
if (moved) {
  const direction = params.get("dir") || "up";
  const target = document.querySelector(`#${CSS.escape(moved)} button[data-move="${direction}"]`)
    || document.querySelector(`#${CSS.escape(moved)} button[data-move]`);
  if (target) target.focus();
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}
