// PostGraphile on several processes: Node's cluster module forks $WORKERS copies of server.mjs,
// each with its own PostGraphile instance and pool of $POOL_SIZE connections, all listening on
// $PORT. Node's default scheduling on Linux applies: the primary accepts the connections and
// hands them to the workers in turn.
// Usage: WORKERS=2 node cluster.mjs  (DATABASE_URL, PORT and POOL_SIZE as for server.mjs)
//
// SIGTERM or SIGINT stops every worker (server.mjs closes its server and pool) and then the
// primary. A worker that exits on its own is not replaced: the benchmark stops instead of
// measuring fewer workers than it says.
import cluster from "node:cluster";

if (cluster.isPrimary) {
  const count = Number(process.env.WORKERS ?? 1);
  let alive = count;
  let stopping = false;
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    process.exitCode = code;
    for (const worker of Object.values(cluster.workers)) worker.process.kill("SIGTERM");
  };
  cluster.on("exit", (worker, code, signal) => {
    alive -= 1;
    if (!stopping) {
      console.error(`postgraphile worker ${worker.process.pid} exited (${signal ?? code})`);
      stop(1);
    }
    if (alive === 0) process.exit();
  });
  process.on("SIGTERM", () => stop(0));
  process.on("SIGINT", () => stop(0));
  for (let n = 0; n < count; n += 1) cluster.fork();
} else {
  await import("./server.mjs");
}
