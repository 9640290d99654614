"""Live co-editing of drafts (issue 32), the parts with no web or queue library in them:

- `ydoc`: a file's shared document (pycrdt, the Yjs CRDT): made once from the file's text,
  loaded from what is stored, compacted, and changed by the server as a diff (a rebase, a form);
- `protocol`: the y-websocket messages (sync step 1 and 2, update, awareness), read with bounds;
- `presence`: who is here (Yjs awareness), each state owned by the connection that sent it and
  named by the server, never by the client;
- `room`: one file's document served to the connections of one process, updates persisted before
  they are relayed and acknowledged, and heard from other processes through a `Bus`;
- `bus`: what a room needs from whatever carries updates between processes (Redis, or nothing).
"""
