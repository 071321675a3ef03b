// Shared by the client scripts: the spec from argv, one JSON line per event, a bounded life.
//
// A script reads its spec (a JSON object) from its first argument. It prints one JSON line per
// event on stdout and exits by itself: after `spec.events` next events (when given), once every
// operation has completed or failed, when stdin says "dispose" (or closes), or after
// `spec.timeout` milliseconds (then with exit code 2). Before exiting it disposes the client.

export const spec = JSON.parse(process.argv[2] ?? "{}");

export function emit(event) {
  process.stdout.write(JSON.stringify(event) + "\n");
}

// A JSON-friendly view of what a client passes to a sink's error callback.
export function describeError(error) {
  if (Array.isArray(error)) return { graphqlErrors: error };
  if (error instanceof Error) return { message: error.message, name: error.name };
  if (error && typeof error === "object") {
    // A CloseEvent (code, reason) or an ErrorEvent (type, message) of the WebSocket.
    const { type, code, reason, message } = error;
    return Object.fromEntries(
      Object.entries({ type, code, reason, message }).filter(([, value]) => value !== undefined),
    );
  }
  return { value: String(error) };
}

// Run `operations` (a list of {id, query, variables}) with `subscribe(operation, sink)`, which
// returns a function that stops the operation; call `dispose` before exiting.
export function run(operations, subscribe, dispose) {
  let nexts = 0;
  let finished = false;
  const open = new Set(operations.map((operation) => operation.id));
  const stops = [];

  async function finish(reason, code = 0) {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    stops.forEach((stop) => stop());
    try {
      await dispose();
    } catch (error) {
      emit({ event: "dispose-failed", error: describeError(error) });
    }
    emit({ event: "done", reason });
    process.exitCode = code;
    // Nothing may keep the process alive once it is done (sockets, timers, stdin).
    setTimeout(() => process.exit(code), 50).unref();
    process.stdin.destroy();
  }

  const timer = setTimeout(() => finish("timeout", 2), spec.timeout ?? 10000);

  function settled(id) {
    open.delete(id);
    if (open.size === 0) finish("settled");
  }

  for (const operation of operations) {
    stops.push(
      subscribe(operation, {
        next(payload) {
          if (finished) return;
          emit({ event: "next", id: operation.id, payload });
          nexts += 1;
          if (spec.events && nexts >= spec.events) finish("events");
        },
        error(error) {
          if (finished) return;
          emit({ event: "error", id: operation.id, error: describeError(error) });
          settled(operation.id);
        },
        complete() {
          if (finished) return;
          emit({ event: "complete", id: operation.id });
          settled(operation.id);
        },
      }),
    );
  }

  process.stdin.setEncoding("utf8");
  process.stdin.on("data", (text) => {
    if (text.split("\n").includes("dispose")) finish("dispose");
  });
  process.stdin.on("end", () => finish("stdin closed"));
}
