// Rows of the manifest form that are ordered (agent steps) can be dragged into place. Without
// script, or from the keyboard, the ↑ and ↓ buttons do the same through the server. After a drop
// the rows' field names are renumbered (step-N-field), so the form posts them in their new order.
const ORDERED = ["step"];

function renumber(fieldset, kind) {
  fieldset.querySelectorAll(":scope > .row").forEach((row, index) => {
    row.id = `${kind}-${index}`;
    for (const field of row.querySelectorAll("[name]")) {
      field.name = field.name.replace(new RegExp(`^${kind}-\\d+-`), `${kind}-${index}-`);
    }
    for (const button of row.querySelectorAll("button[name=row]")) {
      button.value = button.value.replace(new RegExp(`^(\\w+):${kind}:\\d+$`), `$1:${kind}:${index}`);
    }
  });
}

for (const kind of ORDERED) {
  const fieldset = document.getElementById(`rows-${kind}`);
  if (!fieldset) continue;
  let dragged = null;
  for (const row of fieldset.querySelectorAll(":scope > .row")) {
    row.draggable = true;
    row.classList.add("draggable");
    row.addEventListener("dragstart", (event) => {
      dragged = row;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.id);
    });
    row.addEventListener("dragover", (event) => {
      if (dragged && dragged !== row) event.preventDefault();
    });
    row.addEventListener("drop", (event) => {
      event.preventDefault();
      if (!dragged || dragged === row) return;
      const after = dragged.compareDocumentPosition(row) & Node.DOCUMENT_POSITION_FOLLOWING;
      row.parentNode.insertBefore(dragged, after ? row.nextSibling : row);
      renumber(fieldset, kind);
      dragged = null;
    });
  }
}
