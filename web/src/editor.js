// The editor over a plain textarea (the page works without this script: the textarea posts and
// the "check" and "preview" buttons are answered by the server). With it: CodeMirror 6 with
// JSON, Markdown or Jinja2 highlighting, the push-time problems shown at their lines as you type
// (a debounced call of the server's check on the tree with this change applied), and a live
// preview of the rendered prompts. Styles CodeMirror injects carry the page's CSP nonce.
// The CodeMirror setup is shared with the conflict pages (setup.js), whose edit boxes this bundle
// also turns into editors (conflicts.js): those pages load this bundle, so the browser's cached
// copy serves both and no second CodeMirror is downloaded.
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { editorOver } from "./setup.js";
import { attachConflicts } from "./conflicts.js";

const DEBOUNCE_MS = 400;

function showProblems(region, problems) {
  region.replaceChildren();
  if (!problems.length) {
    const ok = document.createElement("p");
    ok.className = "ok";
    ok.textContent = "No problems.";
    region.append(ok);
    return;
  }
  const list = document.createElement("ul");
  for (const p of problems) {
    const item = document.createElement("li");
    item.className = "error";
    item.textContent = (p.line ? `line ${p.line}: ` : "") + (p.path ? `${p.path}: ` : "") + p.message;
    list.append(item);
  }
  region.append(list);
}

function showPreview(preview) {
  if (!preview) return;
  for (const role of ["system", "user"]) {
    const box = document.getElementById(`preview-${role}`);
    if (box) box.textContent = preview[role] || "";
  }
  const error = document.getElementById("preview-error");
  if (error) {
    error.textContent = preview.error ? `Could not render: ${preview.error}`
      : preview.missing && preview.missing.length ? `Fill in ${preview.missing.join(", ")} to see the prompts rendered.` : "";
  }
}

function diagnostics(doc, problems) {
  const out = [];
  for (const p of problems) {
    if (!p.line || p.line < 1 || p.line > doc.lines) continue;
    const line = doc.line(p.line);
    out.push({ from: line.from, to: line.to, severity: "error", message: p.message });
  }
  return out;
}

function attach(textarea) {
  const form = textarea.form;
  const checkUrl = form && form.dataset.checkUrl;
  const region = document.getElementById("problems");
  const csrf = form && form.querySelector('input[name="csrf"]');
  let timer = null;
  let sequence = 0;

  async function check(view) {
    if (!checkUrl) return;
    const asked = ++sequence;
    const params = {};
    for (const input of document.querySelectorAll("[data-param]")) params[input.dataset.param] = input.value;
    const body = {
      content: view.state.doc.toString(),
      path: form.querySelector('input[name="path"]')?.value || textarea.dataset.path || "",
      ref: form.querySelector('input[name="branch"]')?.value || "",
      parent: form.querySelector('input[name="parent"]')?.value || "",
      params,
    };
    let answer;
    try {
      const response = await fetch(checkUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf ? csrf.value : "" },
        body: JSON.stringify(body),
      });
      if (!response.ok) return;
      answer = await response.json();
    } catch (_) {
      return; // offline or refused: the buttons still work
    }
    if (asked !== sequence) return; // a newer check is on its way
    const mine = answer.problems.filter((p) => !p.path || p.path === body.path);
    view.dispatch(setDiagnostics(view.state, diagnostics(view.state.doc, mine)));
    if (region) showProblems(region, answer.problems);
    showPreview(answer.preview);
  }

  function later(view) {
    clearTimeout(timer);
    timer = setTimeout(() => check(view), DEBOUNCE_MS);
  }

  const view = editorOver(textarea, { extensions: [lintGutter()], changed: (update) => later(update.view) });
  for (const input of document.querySelectorAll("[data-param]")) input.addEventListener("input", () => later(view));
  check(view);
}

// The editor starts in a task of its own, after the script's evaluation: two shorter tasks block
// the page less than one long one (total blocking time counts what each task spends past 50 ms).
for (const textarea of document.querySelectorAll("textarea[data-editor]")) setTimeout(() => attach(textarea), 0);
setTimeout(attachConflicts, 0);
