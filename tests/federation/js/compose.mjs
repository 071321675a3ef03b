// Composes subgraphs with Apollo's own composition library (what Rover and GraphOS run).
// Reads {"subgraphs": [{"name", "url", "sdl"}]} on stdin; writes
// {"errors": [...], "hints": [...], "supergraphSdl": "..." | null} on stdout.
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { subgraphs } = JSON.parse(input);
const result = composeServices(
  subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
);
process.stdout.write(
  JSON.stringify({
    errors: (result.errors ?? []).map((error) => error.message),
    hints: (result.hints ?? []).map((hint) => hint.toString()),
    supergraphSdl: result.errors ? null : result.supergraphSdl,
  }),
);
