// The draft page, live: the file's shared Yjs document over the draft's WebSocket (y-websocket),
// edited in CodeMirror (y-codemirror.next's sync and undo), with the others' cursors and
// selections, who is here (a list, joins and leaves announced politely, "Who is here?" on demand),
// whether what you typed is stored ("saved": the server's own message), and what happens to the
// draft (the branch merged in, a commit, a conflict, a deletion). Without this script the page is
// plain forms. Remote cursors are drawn with classes, never style attributes (the CSP allows no
// inline style), in the colours the server gives each editor.
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { yCollab } from "y-codemirror.next";
import * as decoding from "lib0/decoding";
import { EditorView, Decoration, ViewPlugin, WidgetType, keymap, lineNumbers, highlightActiveLine,
         highlightActiveLineGutter, highlightSpecialChars, drawSelection } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { syntaxHighlighting, defaultHighlightStyle, bracketMatching } from "@codemirror/language";
import { defaultKeymap, indentWithTab } from "@codemirror/commands";
import { language, nonce } from "./setup.js";
import { attachConflicts } from "./conflicts.js";

const SAVED = 4; // the server's "stored up to this state vector"
const NOTICE = 5; // the server's JSON about the draft
const PALETTE = ["#1f6feb", "#b35900", "#8250df", "#1a7f37", "#cf222e", "#9a6700", "#0969da", "#bf3989"];

function colourClass(user) {
  const at = user && PALETTE.indexOf(user.color);
  if (at >= 0) return `cm-yc-${at}`;
  let hash = 0;
  for (const ch of (user && user.name) || "") hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return `cm-yc-${hash % PALETTE.length}`;
}

class Caret extends WidgetType {
  constructor(name, cls) { super(); this.name = name; this.cls = cls; }
  eq(other) { return other.name === this.name && other.cls === this.cls; }
  toDOM() {
    const caret = document.createElement("span");
    caret.className = `cm-ySelectionCaret ${this.cls}`;
    const label = document.createElement("span");
    label.className = "cm-ySelectionInfo";
    label.textContent = this.name;
    caret.append("\u2060", label, "\u2060");
    return caret;
  }
  ignoreEvent() { return true; }
}

// Our own cursor into awareness, the others' into decorations (after y-codemirror.next's
// yRemoteSelections, which styles them inline).
function remoteCursors(ytext, awareness) {
  return ViewPlugin.fromClass(class {
    constructor(view) {
      this.decorations = Decoration.none;
      this.changed = ({ added, updated, removed }) => {
        const others = added.concat(updated, removed).some((id) => id !== awareness.doc.clientID);
        if (others) view.dispatch({});
      };
      awareness.on("change", this.changed);
    }
    destroy() { awareness.off("change", this.changed); }
    update(update) {
      const local = awareness.getLocalState();
      if (local) {
        const focused = update.view.hasFocus && document.hasFocus();
        const sel = update.state.selection.main;
        if (focused) {
          const anchor = Y.createRelativePositionFromTypeIndex(ytext, sel.anchor);
          const head = Y.createRelativePositionFromTypeIndex(ytext, sel.head);
          const had = local.cursor;
          if (!had || !Y.compareRelativePositions(Y.createRelativePositionFromJSON(had.anchor), anchor)
              || !Y.compareRelativePositions(Y.createRelativePositionFromJSON(had.head), head)) {
            awareness.setLocalStateField("cursor", { anchor, head });
          }
        } else if (local.cursor) {
          awareness.setLocalStateField("cursor", null);
        }
      }
      const found = [];
      awareness.getStates().forEach((state, client) => {
        if (client === awareness.doc.clientID || !state.cursor || !state.cursor.anchor) return;
        const anchor = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(state.cursor.anchor), ytext.doc);
        const head = Y.createAbsolutePositionFromRelativePosition(Y.createRelativePositionFromJSON(state.cursor.head), ytext.doc);
        if (!anchor || !head || anchor.type !== ytext || head.type !== ytext) return;
        const length = update.state.doc.length;
        const a = Math.min(anchor.index, length), h = Math.min(head.index, length);
        const cls = colourClass(state.user);
        if (a !== h) found.push(Decoration.mark({ class: `cm-ySelection ${cls}` }).range(Math.min(a, h), Math.max(a, h)));
        const name = (state.user && state.user.name) || "someone";
        found.push(Decoration.widget({ widget: new Caret(name, cls), side: h - a > 0 ? -1 : 1 }).range(h));
      });
      this.decorations = Decoration.set(found, true);
    }
  }, { decorations: (plugin) => plugin.decorations });
}

function text(el, value) { if (el) el.textContent = value; }

function attach(textarea) {
  const me = textarea.dataset.me;
  const writer = textarea.dataset.write === "yes";
  const status = document.getElementById("draft-status");
  const notices = document.getElementById("draft-notices");
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const room = textarea.dataset.draftWs; // .../drafts/N/ws
  const doc = new Y.Doc();
  const ytext = doc.getText("content");
  const provider = new WebsocketProvider(scheme + location.host + room.slice(0, -3), "ws", doc, {
    params: { path: textarea.dataset.path }, disableBc: true, maxBackoffTime: 5000,
  });
  const awareness = provider.awareness;
  awareness.setLocalStateField("user", { name: me });
  let saved = new Map();
  let view = null;
  let closed = null;

  const mine = () => Y.decodeStateVector(Y.encodeStateVector(doc)).get(doc.clientID) || 0;
  const allSaved = () => (saved.get(doc.clientID) || 0) >= mine();
  function showStatus() {
    if (closed) return text(status, `Disconnected: ${closed}. Copy any text you need, then reload.`);
    if (!provider.wsconnected) {
      return text(status, view ? "Offline: what you type is kept here and sent when the connection returns."
        : "Connecting…");
    }
    if (!writer) return text(status, "Watching: you may read along; writers edit this draft.");
    text(status, allSaved() ? "All changes saved." : "Saving…");
  }
  provider.messageHandlers[SAVED] = (_encoder, decoder) => {
    saved = Y.decodeStateVector(decoding.readVarUint8Array(decoder));
    showStatus();
    document.dispatchEvent(new Event("draft-saved"));
  };
  provider.messageHandlers[NOTICE] = (_encoder, decoder) => notice(JSON.parse(decoding.readVarString(decoder)));
  provider.on("status", showStatus);
  provider.on("closed", (event) => { closed = event.reason || `code ${event.code}`; showStatus(); if (view) view.setState(view.state); });
  doc.on("update", (_update, origin) => { if (origin !== provider) showStatus(); });

  function notice(body) {
    const box = document.createElement("p");
    box.className = "notice";
    const who = body.by ? ` by ${body.by}` : "";
    if (body.state === "rebased") {
      box.textContent = `The branch moved (${String(body.from).slice(0, 10)} → ${String(body.to).slice(0, 10)}) and was merged in`
        + (body.merged && body.merged.length ? `: ${body.merged.join(", ")} came in.` : ".")
        + (body.conflicts && body.conflicts.length ? ` Conflicts in ${body.conflicts.join(", ")}; your text is kept:` : "");
      for (const path of body.conflicts || []) { // the conflict view of each file: a side per hunk, or your text
        const link = document.createElement("a");
        link.href = `${notices.dataset.conflicts}?path=${encodeURIComponent(path).replaceAll("%2F", "/")}`;
        link.className = "resolve-link";
        link.textContent = `Resolve the conflicts in ${path}`;
        box.append(" ", link);
      }
    } else if (body.state === "committed") {
      box.textContent = `Committed as ${String(body.sha).slice(0, 10)}${who}` + (body.pull ? `, proposed as #${body.pull}.` : ".");
    } else if (body.state === "deleted") {
      box.textContent = `This draft was deleted${who}.`;
    } else if (body.state === "resolved") {
      box.textContent = `The conflict in ${body.path} was settled${who}.`;
    } else if (body.state === "branch-deleted") {
      box.textContent = `The branch ${body.branch} was deleted: commit to a new branch with a pull request.`;
    } else {
      return;
    }
    notices.append(box);
  }

  // who is here: a list, and joins and leaves said politely to screen readers
  const list = document.getElementById("presence");
  const live = document.getElementById("presence-live");
  let present = new Map();
  function people() {
    const found = new Map();
    awareness.getStates().forEach((state, client) => {
      const user = state.user;
      if (!user || !user.name) return;
      if (client === doc.clientID) found.set(user.name, { name: user.name, role: writer ? "editor" : "reader", you: true });
      else if (!found.has(user.name)) found.set(user.name, { name: user.name, role: user.role || "", you: false, user });
    });
    return found;
  }
  function describe(p) { return `${p.name}${p.you ? " (you)" : ""}, ${p.role === "reader" ? "watching" : "editing"}`; }
  function render() {
    const now = people();
    list.replaceChildren(...[...now.values()].map((p) => {
      const item = document.createElement("li");
      const dot = document.createElement("span");
      dot.className = `presence-dot ${p.you ? "you" : colourClass(p.user)}`;
      dot.setAttribute("aria-hidden", "true");
      item.append(dot, describe(p));
      return item;
    }));
    const said = [];
    for (const [name, p] of now) if (!present.has(name) && !p.you) said.push(`${name} joined`);
    for (const [name, p] of present) if (!now.has(name) && !p.you) said.push(`${name} left`);
    if (said.length) text(live, said.join(". ") + ".");
    present = now;
  }
  awareness.on("change", render);
  render();
  document.getElementById("who").addEventListener("click", () => {
    text(live, "");
    setTimeout(() => text(live, `Here now: ${[...people().values()].map(describe).join("; ")}.`), 50);
  });

  function start() {
    if (view) return;
    view = new EditorView({
      parent: textarea.parentNode,
      state: EditorState.create({
        doc: ytext.toString(),
        extensions: [
          lineNumbers(), highlightActiveLineGutter(), highlightSpecialChars(), drawSelection(), highlightActiveLine(),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }), bracketMatching(),
          keymap.of([...defaultKeymap, indentWithTab]),
          language(textarea.dataset.language),
          yCollab(ytext, null),
          remoteCursors(ytext, awareness),
          EditorState.readOnly.of(!writer),
          EditorView.editable.of(true),
          EditorView.cspNonce.of(nonce()),
          EditorView.lineWrapping,
          EditorView.contentAttributes.of({ "aria-label": textarea.getAttribute("aria-label") || "File contents",
                                            "aria-describedby": "editor-help" }),
          keymap.of([{ key: "Escape", run: (v) => { v.contentDOM.blur(); return true; } },
                     { key: "Tab", run: () => false }]),
        ],
      }),
    });
    textarea.parentNode.insertBefore(view.dom, textarea);
    textarea.value = ytext.toString();
    ytext.observe(() => { textarea.value = ytext.toString(); }); // the form's field follows the document
    textarea.hidden = true;
    textarea.setAttribute("aria-hidden", "true");
    textarea.tabIndex = -1;
    const buttons = document.getElementById("save-buttons");
    if (buttons) buttons.hidden = true;
    document.getElementById("presence-section").hidden = false;
    document.documentElement.classList.add("has-editor");
    showStatus();
  }
  provider.on("sync", (synced) => { if (synced) start(); showStatus(); });

  // a commit waits for what you typed to be stored
  const commit = document.getElementById("commit-form");
  if (commit) {
    commit.addEventListener("submit", (event) => {
      if (allSaved() || commit.dataset.waited) return;
      event.preventDefault();
      text(status, "Waiting for your last changes to be saved before committing…");
      const go = () => { commit.dataset.waited = "1"; commit.requestSubmit(); };
      const timer = setTimeout(() => text(status, "Your last changes are not saved yet: the commit waits. Check your connection."), 8000);
      const ready = () => { if (allSaved()) { clearTimeout(timer); document.removeEventListener("draft-saved", ready); go(); } };
      document.addEventListener("draft-saved", ready);
    });
  }
  window.addEventListener("beforeunload", (event) => { if (writer && !allSaved() && !closed) event.preventDefault(); });
}

const textarea = document.querySelector("textarea[data-draft-ws]");
if (textarea) attach(textarea);
attachConflicts(); // the open file's conflict, resolved under its editor (conflicts.js)
