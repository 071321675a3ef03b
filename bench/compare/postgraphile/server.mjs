// PostGraphile v5 in library mode over the example's tables, the way its documentation
// recommends: the Amber preset, the pg adaptor, grafserv on Node's own HTTP server.
// Usage: node server.mjs  (DATABASE_URL, PORT and POOL_SIZE from the environment)
//
// The Node interface is disabled so that the tables' own `id` columns keep the name `id`
// (with it, PostGraphile calls its global identifier `id` and the column `rowId`).
// PgIndexBehaviorsPlugin is disabled too: it hides a backward relation unless an index starts
// with exactly its foreign key's columns, and the blog's keys are per tenant, (fk_post,
// fk_organisation), served by the index on fk_post; without it TbPost has no comments.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";

const port = Number(process.env.PORT ?? 5678);
const preset = {
  extends: [PostGraphileAmberPreset],
  disablePlugins: ["NodePlugin", "PgIndexBehaviorsPlugin"],
  pgServices: [
    makePgService({
      connectionString: process.env.DATABASE_URL,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.POOL_SIZE ?? 10) },
    }),
  ],
  grafserv: { port, host: "127.0.0.1", graphqlPath: "/graphql", graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.once("listening", () => console.log(`postgraphile listening on ${port}`));
await serv.addTo(server);
server.listen(port, "127.0.0.1");
const stop = () => server.close(() => pgl.release().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
