// The editor over a plain textarea (the page works without this script: the textarea posts and
// the "check" and "preview" buttons are answered by the server). With it: CodeMirror 6 with
// JSON, Markdown or Jinja2 highlighting, the push-time problems shown at their lines as you type
// (a debounced call of the server's check on the tree with this change applied), and a live
// preview of the rendered prompts. Styles CodeMirror injects carry the page's CSP nonce.
// A lean setup instead of codemirror's basicSetup, and Markdown's language alone (lang-markdown's
// markdown() brings HTML, CSS and JavaScript parsers along for embedded code): the
// script's first run is one long task, kept short (total blocking time, measured by
// bench/bench_web_vitals.py).
import { EditorState } from "@codemirror/state";
import {
  EditorView, keymap, lineNumbers, highlightActiveLine, highlightActiveLineGutter, drawSelection,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap } from "@codemirror/commands";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { json } from "@codemirror/lang-json";
import { StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
import { markdownLanguage } from "@codemirror/lang-markdown";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";
import { setDiagnostics, lintGutter } from "@codemirror/lint";

const DEBOUNCE_MS = 400;

function language(name) {
  if (name === "json") return json();
  if (name === "markdown") return markdownLanguage;
  if (name === "jinja2") return StreamLanguage.define(jinja2);
  return [];
}

function nonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.content : "";
}

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

  const view = new EditorView({
    parent: textarea.parentNode,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
        bracketMatching(), highlightSelectionMatches(), syntaxHighlighting(defaultHighlightStyle),
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
        lintGutter(),
        language(textarea.dataset.language),
        EditorView.cspNonce.of(nonce()),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || "File contents",
                                          "aria-describedby": "editor-help" }),
        keymap.of([{ key: "Escape", run: (v) => { v.contentDOM.blur(); return true; } }]),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          later(update.view);
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.setAttribute("aria-hidden", "true");
  textarea.tabIndex = -1;
  for (const input of document.querySelectorAll("[data-param]")) input.addEventListener("input", () => later(view));
  document.documentElement.classList.add("has-editor");
  check(view);
}

// The editor starts in a task of its own, after the script's evaluation: two shorter tasks block
// the page less than one long one (total blocking time counts what each task spends past 50 ms).
for (const textarea of document.querySelectorAll("textarea[data-editor]")) setTimeout(() => attach(textarea), 0);
