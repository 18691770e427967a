// Small enhancements shared by every console page. No inline scripts: the page's CSP forbids them.

// A form or button marked data-confirm asks first (the server still requires the CSRF token either way).
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}
