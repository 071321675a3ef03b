// The graphql-ws client (graphql-transport-ws) on Node with `ws` as its WebSocket.
//
// spec: {url, connectionParams, operations: [{id, query, variables}], iterate, events, timeout}.
// With `iterate` the operations run through `client.iterate` (an async iterator) instead of
// `client.subscribe` with a sink. See common.mjs for the events printed and when it exits.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

import { describeError, emit, run, spec } from "./common.mjs";

const client = createClient({
  url: spec.url,
  webSocketImpl: WebSocket,
  connectionParams: spec.connectionParams ?? {},
  lazy: false,
  retryAttempts: 0,
  onNonLazyError: (error) => emit({ event: "connection-error", error: describeError(error) }),
  on: {
    connected: () => emit({ event: "connected" }),
    closed: (event) => emit({ event: "closed", code: event?.code ?? null }),
  },
});

function iterate(operation, sink) {
  const iterator = client.iterate({ query: operation.query, variables: operation.variables });
  (async () => {
    try {
      for await (const payload of iterator) sink.next(payload);
      sink.complete();
    } catch (error) {
      sink.error(error);
    }
  })();
  return () => iterator.return?.();
}

function subscribe(operation, sink) {
  return client.subscribe({ query: operation.query, variables: operation.variables }, sink);
}

run(spec.operations ?? [], spec.iterate ? iterate : subscribe, () => client.dispose());
