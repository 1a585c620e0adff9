// Starts GraphiQL with the explorer plugin on the page /graphql serves to browsers.
// A plain file (no inline script) so the page's Content-Security-Policy can forbid inline
// scripts. React, ReactDOM, GraphiQL and GraphiQLPluginExplorer are the UMD globals of the
// pinned bundles the page loads before this file.
(function () {
  "use strict";

  var script = document.currentScript;
  // GraphiQL's dialogs add a <style> element (scroll lock); the CSP lets it in only with
  // the page's nonce, which the bundle reads from this global.
  if (script && script.nonce) {
    window.__webpack_nonce__ = script.nonce;
  }

  var root = document.getElementById("graphiql");
  var endpoint = root.getAttribute("data-endpoint") || window.location.pathname;

  var EXAMPLE_QUERY = [
    "# Run a query with Ctrl-Enter or the ▶ button.",
    "# The Explorer in the sidebar builds queries from ticked fields;",
    "# Docs lists the schema. A token goes in the Headers tab:",
    "#   { \"Authorization\": \"Bearer ...\" }",
    "",
    "{",
    "  customers(first: 5) {",
    "    totalCount",
    "    edges {",
    "      node {",
    "        id",
    "        name",
    "        email",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  var fetcher = GraphiQL.createFetcher({
    url: endpoint,
    // the preferred GraphQL-over-HTTP media type; request errors then come with status 400
    headers: { accept: "application/graphql-response+json, application/json" },
  });
  var explorer = GraphiQLPluginExplorer.explorerPlugin();

  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: EXAMPLE_QUERY,
      plugins: [explorer],
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      // tokens typed into the headers tab stay out of localStorage
      shouldPersistHeaders: false,
      inputValueDeprecation: true,
    }),
  );
})();
