// The conflict pages (a pull request's, a draft's), with script: each hunk's edit box follows the
// side picked (ours, theirs, both, the common ancestor), so an edit starts from that side, and
// typing in the box picks "Edit the text below". Once typed into, a box is never overwritten by a
// pick. Without this script the page is a plain form that works as it is.
function sideText(hunk, side) {
  const pre = hunk.querySelector(`.side.${side} pre`);
  return pre ? pre.textContent : null;
}

for (const hunk of document.querySelectorAll("fieldset.hunk")) {
  const box = hunk.querySelector("textarea");
  const edit = hunk.querySelector('input[type="radio"][value="edit"]');
  if (!box || !edit) continue;
  let typed = false;
  for (const radio of hunk.querySelectorAll('input[type="radio"]')) {
    radio.addEventListener("change", () => {
      if (!radio.checked || typed || radio === edit) return;
      const text = radio.value === "both"
        ? (sideText(hunk, "ours") || "") + (sideText(hunk, "theirs") || "")
        : sideText(hunk, radio.value);
      if (text !== null) box.value = text;
    });
  }
  box.addEventListener("input", () => {
    typed = true;
    edit.checked = true;
  });
}
