// The conflict pages (a pull request's, a draft's), with script: each hunk's edit box becomes a
// CodeMirror editor (setup.js, as the template editor: the file's highlighting, Tab leaves it after
// Escape) over its textarea, which stays the form's field. The editor follows the side picked
// (ours, theirs, both, the common ancestor), so an edit starts from that side, and typing in it
// picks "Edit the text below". Once typed into, an editor is never overwritten by a pick (its
// undo history still has every step). Without this script the page is a plain form that works as
// it is. Bundled into the editor's and the draft page's scripts, not apart: they carry CodeMirror.
import { Transaction } from "@codemirror/state";
import { editorOver } from "./setup.js";

function sideText(hunk, side) {
  const pre = hunk.querySelector(`.side.${side} pre`);
  return pre ? pre.textContent : null;
}

function attachHunk(hunk, box, edit) {
  let typed = false;
  const view = editorOver(box, {
    changed: (update) => {
      // a pick's replacement carries no user event; typing, pasting, deleting and undoing do
      if (!update.transactions.some((tr) => tr.annotation(Transaction.userEvent) !== undefined)) return;
      typed = true;
      edit.checked = true;
    },
  });
  for (const radio of hunk.querySelectorAll('input[type="radio"]')) {
    radio.addEventListener("change", () => {
      if (!radio.checked || typed || radio === edit) return;
      const text = radio.value === "both"
        ? (sideText(hunk, "ours") || "") + (sideText(hunk, "theirs") || "")
        : sideText(hunk, radio.value);
      if (text !== null) view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
    });
  }
}

export function attachConflicts() {
  for (const hunk of document.querySelectorAll("fieldset.hunk")) {
    const box = hunk.querySelector("textarea");
    const edit = hunk.querySelector('input[type="radio"][value="edit"]');
    if (box && edit) attachHunk(hunk, box, edit);
  }
}
