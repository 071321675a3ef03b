// The graphql-sse client in distinct connections mode (one HTTP request per operation), with
// Node's own fetch.
//
// spec: {url, headers, operations: [{id, query, variables}], events, timeout}. See common.mjs
// for the events printed and when it exits.
import { createClient } from "graphql-sse";

import { run, spec } from "./common.mjs";

const client = createClient({
  url: spec.url,
  headers: spec.headers ?? {},
  singleConnection: false,
  retryAttempts: 0,
});

function subscribe(operation, sink) {
  return client.subscribe({ query: operation.query, variables: operation.variables }, sink);
}

run(spec.operations ?? [], subscribe, () => client.dispose());
