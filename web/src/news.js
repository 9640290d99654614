// What changed since the page was shown, without a reload: a push, a review, a comment, a check
// (server-sent events from the events record, each judged for you by the server). The list is a
// polite live region; the page itself is not changed under the reader: "Reload to see it".
const box = document.querySelector("section[data-news]");
if (box && window.EventSource) {
  const items = document.getElementById("news-items");
  const source = new EventSource(`${box.dataset.news}?after=${encodeURIComponent(box.dataset.after || "")}`);
  source.addEventListener("news", (event) => {
    const news = JSON.parse(event.data);
    const item = document.createElement("li");
    item.dataset.action = news.action;
    const link = document.createElement("a");
    link.href = news.url;
    link.textContent = news.text;
    item.append(link);
    items.append(item);
    box.hidden = false;
  });
}
