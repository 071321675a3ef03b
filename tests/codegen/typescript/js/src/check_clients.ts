// The generated documents fit graphql-request, urql and Apollo Client, with the types inferred.
import { ApolloClient, HttpLink, InMemoryCache } from "@apollo/client";
import { Client, cacheExchange, fetchExchange } from "@urql/core";
import { GraphQLClient } from "graphql-request";
import { PostByIdentifierDocument, PostsPageDocument, PostStatus } from "./generated/blog.js";

export async function urql(): Promise<string | undefined> {
  const client = new Client({ url: "http://127.0.0.1/graphql", exchanges: [cacheExchange, fetchExchange] });
  const result = await client.query(PostByIdentifierDocument, { identifier: "welcome" }).toPromise();
  // @ts-expect-error identifier is a String
  await client.query(PostByIdentifierDocument, { identifier: 1 }).toPromise();
  return result.data?.post?.title;
}

export async function apollo(): Promise<number | undefined> {
  const client = new ApolloClient({
    link: new HttpLink({ uri: "http://127.0.0.1/graphql" }),
    cache: new InMemoryCache(),
  });
  const result = await client.query({
    query: PostsPageDocument,
    variables: { first: 2, status: PostStatus.DRAFT },
  });
  // @ts-expect-error status must be a PostStatus
  await client.query({ query: PostsPageDocument, variables: { first: 2, status: "draft" } });
  return result.data?.postsConnection.totalCount;
}

export async function graphqlRequest(): Promise<string | undefined> {
  const client = new GraphQLClient("http://127.0.0.1/graphql");
  const data = await client.request(PostByIdentifierDocument, { identifier: "welcome" });
  return data.post?.author.name;
}
