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
    "# Sign in with the form above first: signed out,",
    "# this query answers UNAUTHENTICATED.",
    "# Run it with Ctrl-Enter or the ▶ button. The",
    "# Explorer in the sidebar builds queries from",
    "# ticked fields; Docs lists the schema.",
    "",
    "{",
    "  me {",
    "    username",
    "    roles(first: 10) {",
    "      edges {",
    "        node {",
    "          name",
    "        }",
    "      }",
    "    }",
    "  }",
    "  customers(first: 5) {",
    "    totalCount",
    "    edges {",
    "      node {",
    "        externalId",
    "        name",
    "      }",
    "    }",
    "  }",
    "}",
    "",
  ].join("\n");

  var send = GraphiQL.createFetcher({
    url: endpoint,
    // the preferred GraphQL-over-HTTP media type; request errors then come with status 400
    headers: { accept: "application/graphql-response+json, application/json" },
  });
  var signIn = window.OpsgraphSignIn; // signin.js: the bar above GraphiQL

  // Every request GraphiQL sends (queries and the schema's introspection) carries the
  // access token of the bar's sign-in, unless the Headers tab sets an Authorization.
  function signedFetcher() {
    return function (params, options) {
      return signIn.headers(options && options.headers).then(function (headers) {
        return send(params, Object.assign({}, options, { headers: headers }));
      });
    };
  }

  var explorer = GraphiQLPluginExplorer.explorerPlugin();
  var view = ReactDOM.createRoot(root);

  function render() {
    view.render(
      React.createElement(GraphiQL, {
        // a new fetcher makes GraphiQL load the schema again, as the signed-in user (in
        // production, introspection needs a permission)
        fetcher: signedFetcher(),
        defaultQuery: EXAMPLE_QUERY,
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        isHeadersEditorEnabled: true,
        // headers typed into the headers tab stay out of localStorage
        shouldPersistHeaders: false,
        inputValueDeprecation: true,
      }),
    );
  }

  render();
  signIn.onChange(render);
})();
