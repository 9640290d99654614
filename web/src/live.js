// Progress as it happens on the run and experiment pages: their server-sent events
// (/api/v1/templates/{owner}/{name}/runs/{id}/events and .../experiments/{id}/events). A run's log
// lines are appended as they come and its state follows; an experiment's state, progress and
// figures follow. When it ends the page reloads once, to show the final report. Without script
// the pages are the same, and a reload shows the latest.
function text(id, value) {
  const node = document.getElementById(id);
  if (node && value !== undefined && value !== null) node.textContent = value;
}

function percent(x) {
  return x === null || x === undefined ? "–" : `${(x * 100).toFixed(1)}%`;
}

function follow(box, handlers) {
  if (!box || !window.EventSource || box.dataset.final === "true") return;
  const source = new EventSource(box.dataset.events);
  for (const [name, handle] of Object.entries(handlers)) {
    source.addEventListener(name, (event) => handle(JSON.parse(event.data)));
  }
  source.addEventListener("end", () => {
    source.close();
    window.location.reload();
  });
}

follow(document.getElementById("run-live"), {
  log: (data) => {
    const logs = document.getElementById("run-logs");
    if (logs.dataset.empty === "true") {
      logs.textContent = "";
      logs.dataset.empty = "false";
    }
    logs.append(data.text);
  },
  reset: (data) => {
    text("run-logs", data.text);
  },
  state: (data) => {
    text("run-state", data.state);
    text("run-summary", data.summary);
  },
});

follow(document.getElementById("experiment-live"), {
  state: (data) => {
    text("experiment-state", data.state);
    text("experiment-summary", data.summary);
    const p = data.progress || {};
    const ended = (p.done || 0) + (p.error || 0) + (p.cancelled || 0);
    text("experiment-progress", `${ended} of ${p.units} units ended (${p.trials} trials).`);
    const rows = document.querySelectorAll("#experiment-variants tbody tr");
    (data.variants || []).forEach((v, i) => {
      const cells = rows[i] ? rows[i].querySelectorAll("td") : [];
      if (cells.length < 1) return;
      const interval = v.interval ? `, ${percent(v.interval[0])}–${percent(v.interval[1])}` : "";
      cells[0].textContent = v.pass_rate === null ? "–" : `${percent(v.pass_rate)} (${v.passes}/${v.trials}${interval})`;
    });
  },
});
