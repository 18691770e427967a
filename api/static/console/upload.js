// Upload several PDFs with drag and drop, then follow the job's stages by polling its status (no reload).
import { csrfToken } from "./console.js";

const form = document.getElementById("upload-form");
const input = document.getElementById("files");
const dropzone = document.getElementById("dropzone");
const chosen = document.getElementById("chosen");
const error = document.getElementById("upload-error");
const button = document.getElementById("upload-button");
const newFields = document.getElementById("new-fields");
const existingFields = document.getElementById("existing-fields");

function showTarget() {
  const existing = document.getElementById("target-existing").checked;
  newFields.hidden = existing;
  existingFields.hidden = !existing;
  document.getElementById("title").required = !existing;
}
document.querySelectorAll('input[name="target"]').forEach((r) => r.addEventListener("change", showTarget));
showTarget();

function listChosen() {
  chosen.replaceChildren(...Array.from(input.files).map((f) => {
    const li = document.createElement("li");
    li.textContent = `${f.name} (${(f.size / 1048576).toFixed(1)} MB)`;
    return li;
  }));
}
input.addEventListener("change", listChosen);
["dragenter", "dragover"].forEach((name) => dropzone.addEventListener(name, (e) => {
  e.preventDefault();
  dropzone.classList.add("over");
}));
["dragleave", "drop"].forEach((name) => dropzone.addEventListener(name, () => dropzone.classList.remove("over")));
dropzone.addEventListener("drop", (e) => {
  e.preventDefault();
  const pdfs = new DataTransfer();
  for (const f of e.dataTransfer.files) pdfs.items.add(f);
  input.files = pdfs.files;
  listChosen();
});

function fail(element, message) {
  element.textContent = message;
  element.hidden = false;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  error.hidden = true;
  if (!input.files.length) return fail(error, "Choose at least one PDF.");
  const data = new FormData();
  const existing = document.getElementById("target-existing").checked;
  if (existing) data.append("course_id", document.getElementById("course_id").value);
  else {
    data.append("title", document.getElementById("title").value);
    data.append("description", document.getElementById("description").value);
  }
  for (const f of input.files) data.append("files", f, f.name);
  button.disabled = true;
  let response;
  try {
    response = await fetch("/teach/api/uploads", {
      method: "POST", body: data, headers: { "X-CSRF-Token": csrfToken() }, credentials: "same-origin",
    });
  } catch {
    button.disabled = false;
    return fail(error, "The upload did not reach the server. Check the connection and try again.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    button.disabled = false;
    return fail(error, body.error ? body.error.message : `The upload failed (HTTP ${response.status}).`);
  }
  document.getElementById("progress").hidden = false;
  if (body.duplicates.length) {
    fail(document.getElementById("duplicates"),
      `Already in this course, so skipped: ${body.duplicates.join(", ")}.`);
  }
  follow(body.job_url);
});

function drawStages(stages) {
  document.getElementById("stages").replaceChildren(...stages.map((s) => {
    const li = document.createElement("li");
    li.className = `stage ${s.state}`;
    const words = { done: "done", current: "in progress", waiting: "waiting", failed: "failed" }[s.state];
    li.textContent = `${s.name}: ${words}`;
    if (s.state === "current") li.setAttribute("aria-current", "step");
    return li;
  }));
}

async function follow(url) {
  const bar = document.getElementById("progress-bar");
  const message = document.getElementById("progress-message");
  for (;;) {
    let job;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      job = await response.json();
      if (!response.ok) throw new Error(job.error ? job.error.message : `HTTP ${response.status}`);
    } catch (e) {
      message.textContent = `Could not read the job's progress (${e.message}); retrying.`;
      await new Promise((r) => setTimeout(r, 2000));
      continue;
    }
    bar.value = job.progress;
    message.textContent = job.status === "completed" ? "Done: the course is ready to review." : job.message;
    drawStages(job.stages);
    if (job.status === "completed") {
      const link = document.getElementById("course-link");
      link.href = job.course_url;
      document.getElementById("done").hidden = false;
      link.focus();
      return;
    }
    if (job.status === "failed") {
      fail(document.getElementById("job-error"), `The course could not be built: ${job.error}`);
      button.disabled = false;
      return;
    }
    await new Promise((r) => setTimeout(r, 700));
  }
}
