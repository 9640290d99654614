// CodeMirror 6 over a plain textarea, as the editor and the conflict pages use it: the textarea
// stays the form's field (kept equal to the editor's text, so the plain POST works unchanged) and is
// hidden behind the editor. A lean setup instead of codemirror's basicSetup, and Markdown's
// language alone (lang-markdown's markdown() brings HTML, CSS and JavaScript parsers along): the
// script's first run is one long task, kept short (bench/bench_web_vitals.py). Styles CodeMirror
// injects carry the page's CSP nonce. Tab is left to the browser, so it moves focus out; Escape
// first leaves the editor (a completion or search panel takes Escape before that).
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

export function language(name) {
  if (name === "json") return json();
  if (name === "markdown") return markdownLanguage;
  if (name === "jinja2") return StreamLanguage.define(jinja2);
  return [];
}

export function nonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.content : "";
}

function labelOf(textarea) {
  const named = textarea.getAttribute("aria-label");
  if (named) return named;
  const label = textarea.labels && textarea.labels[0];
  return label ? label.textContent.trim().replace(/\s+/g, " ") : "File contents";
}

// The editor over `textarea` (its data-language picks the highlighting), put where the textarea
// was; `extensions` are added to the shared ones; `changed(update)` is called after each change
// of the text, once the textarea holds it. Returns the EditorView.
export function editorOver(textarea, { extensions = [], changed = null, help = "editor-help" } = {}) {
  const view = new EditorView({
    parent: textarea.parentNode,
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(), highlightActiveLineGutter(), highlightActiveLine(), drawSelection(), history(),
        bracketMatching(), highlightSelectionMatches(), syntaxHighlighting(defaultHighlightStyle),
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap]),
        ...extensions,
        language(textarea.dataset.language),
        EditorView.cspNonce.of(nonce()),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of(document.getElementById(help)
          ? { "aria-label": labelOf(textarea), "aria-describedby": help } : { "aria-label": labelOf(textarea) }),
        keymap.of([{ key: "Escape", run: (v) => { v.contentDOM.blur(); return true; } }]),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          if (changed) changed(update);
        }),
      ],
    }),
  });
  textarea.parentNode.insertBefore(view.dom, textarea);
  textarea.hidden = true;
  textarea.setAttribute("aria-hidden", "true");
  textarea.tabIndex = -1;
  for (const label of textarea.labels || []) label.addEventListener("click", () => view.focus());
  document.documentElement.classList.add("has-editor");
  return view;
}
