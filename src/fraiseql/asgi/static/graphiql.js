// FraiseQL's GraphiQL page: render GraphiQL against the endpoint that served the page.
// The page is served by the GraphQL endpoint itself, so the endpoint is this very path.
// Requests are POSTed as application/json, the CSRF-safe content type the server requires.
(function () {
  "use strict";
  var container = document.getElementById("graphiql");
  if (!window.React || !window.ReactDOM || !window.GraphiQL) {
    // A file before this one did not load: say so instead of leaving the page as it is.
    document.getElementById("fraiseql-graphiql-status").textContent =
      "GraphiQL could not be loaded: some of its files did not arrive.";
    return;
  }
  var fetcher = GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: { Accept: "application/graphql-response+json, application/json;q=0.9" },
  });
  ReactDOM.createRoot(container).render(
    React.createElement(GraphiQL, { fetcher: fetcher, defaultEditorToolsVisibility: true })
  );
})();
