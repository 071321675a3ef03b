// The fetcher the generated TanStack Query hooks import: graphql-request's client.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { GraphQLClient } from "graphql-request";

const client = new GraphQLClient("http://127.0.0.1/graphql");

export function request<TResult, TVariables>(
  document: TypedDocumentNode<TResult, TVariables>,
  variables: TVariables,
): Promise<TResult> {
  // graphql-request's own variable checks need concrete types; the hooks already checked them.
  return client.request<TResult, object>(document as TypedDocumentNode<TResult, object>, variables as object);
}
