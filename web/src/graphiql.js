// The /graphiql page: GraphiQL (React), bundled apart from the editor so pages without it never
// load React. Queries go to the page's own origin with its session cookie, as JSON (the server
// refuses a cookie-authenticated POST of any other kind).
import React from "react";
import { createRoot } from "react-dom/client";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";

const mount = document.getElementById("graphiql");
if (mount) {
  const endpoint = mount.dataset.endpoint || "/graphql";
  const fetcher = async (params) => {
    const response = await fetch(endpoint, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(params),
    });
    return response.json();
  };
  createRoot(mount).render(React.createElement(GraphiQL, { fetcher, defaultQuery: "{ viewer { login } }\n" }));
}
