// An Apollo Gateway in front of two subgraphs: the FraiseQL blog (over HTTP, its SDL read with
// `_service { sdl }`) and a tiny in-process "reviews" subgraph that extends Post by its key.
// Reads {"blogUrl", "header", "reviews": [{"stars", "postId"}], "operations": [{"query",
// "tenant"}]} on stdin; writes the gateway's result of each operation as a JSON array. Every
// request the gateway sends the blog carries the operation's tenant in `header`.
import {
  ApolloGateway,
  IntrospectAndCompose,
  LocalGraphQLDataSource,
  RemoteGraphQLDataSource,
} from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";

let input = "";
for await (const chunk of process.stdin) input += chunk;
const { blogUrl, header, reviews, operations } = JSON.parse(input);

const reviewsSchema = buildSubgraphSchema({
  typeDefs: parse(`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
    scalar UUID
    type Post @key(fields: "id") {
      id: UUID!
      reviews: [Review!]!
    }
    type Review {
      stars: Int!
      post: Post
    }
    type Query {
      topReviews: [Review!]!
    }
  `),
  resolvers: {
    Query: {
      topReviews: () =>
        reviews.map(({ stars, postId }) => ({ stars, post: { __typename: "Post", id: postId } })),
    },
    Post: {
      __resolveReference: ({ id }) => ({ id }),
      reviews: ({ id }) => reviews.filter((review) => review.postId === id),
    },
  },
});

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({
    subgraphs: [
      { name: "blog", url: blogUrl },
      { name: "reviews", url: "http://reviews.invalid/graphql" },
    ],
  }),
  buildService: ({ name, url }) =>
    name === "reviews"
      ? new LocalGraphQLDataSource(reviewsSchema)
      : new RemoteGraphQLDataSource({
          url,
          willSendRequest({ request, context }) {
            if (context.tenant) request.http.headers.set(header, context.tenant);
          },
        }),
});

const server = new ApolloServer({ gateway });
await server.start();
try {
  const results = [];
  for (const { query, tenant } of operations) {
    const response = await server.executeOperation({ query }, { contextValue: { tenant } });
    const { data, errors } = response.body.singleResult;
    results.push({ data, errors: (errors ?? []).map((error) => error.message) });
  }
  process.stdout.write(JSON.stringify(results));
} finally {
  await server.stop();
}
