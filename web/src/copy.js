// Copy buttons on the template page: each `button[data-copy]` copies the text of the element
// whose id it names. Without script the buttons stay hidden and the text stays selectable.
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    try {
      await navigator.clipboard.writeText(source.textContent);
      button.textContent = "Copied";
    } catch (_) {
      const range = document.createRange(); // no clipboard permission: select it for the person
      range.selectNodeContents(source);
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    }
    setTimeout(() => { button.textContent = button.dataset.label || "Copy"; }, 2000);
  });
}
