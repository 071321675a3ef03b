// A typed client run: graphql-request with the generated documents against the served blog.
// Usage: node build/client.js <url> <tenant id>; prints one JSON line per operation.
import { GraphQLClient } from "graphql-request";
import {
  CreatePostDocument,
  MutationStatus,
  OrganisationsDocument,
  PostByIdentifierDocument,
  PostStatus,
  PostsPageDocument,
  RecentPostsDocument,
  type RecentPostsQuery,
} from "./generated/blog.js";

const [url, tenant] = process.argv.slice(2);
if (url === undefined || tenant === undefined) throw new Error("usage: client.js <url> <tenant>");
const client = new GraphQLClient(url, { headers: { "X-Tenant-Id": tenant } });

function print(operation: string, value: unknown): void {
  process.stdout.write(JSON.stringify({ operation, value }) + "\n");
}

const recent: RecentPostsQuery = await client.request(RecentPostsDocument, {
  limit: 3,
  where: { status: { eq: PostStatus.PUBLISHED } },
  orderBy: [{ identifier: "ASC" }],
});
print("RecentPosts", {
  count: recent.posts.length,
  typenames: recent.posts.map((post) => post.__typename),
  statuses: recent.posts.map((post) => post.status),
  headlineIsTitle: recent.posts.every((post) => post.headline === post.title),
  authorEmails: recent.posts.every((post) => post.author.email.includes("@")),
});

const first = recent.posts[0];
if (first !== undefined) {
  const one = await client.request(PostByIdentifierDocument, { identifier: first.identifier });
  print("PostByIdentifier", { identifier: one.post?.identifier ?? null, version: one.post?.version ?? null });
}

const page = await client.request(PostsPageDocument, { first: 2, status: PostStatus.DRAFT });
print("PostsPage", {
  edges: page.postsConnection.edges.length,
  totalCount: page.postsConnection.totalCount,
  hasNextPage: page.postsConnection.pageInfo.hasNextPage,
  statuses: page.postsConnection.edges.map((edge) => edge.node.status),
});

const organisations = await client.request(OrganisationsDocument);
print("Organisations", {
  organisations: organisations.organisations.map((o) => o.identifier),
  userOrganisations: [...new Set(organisations.users.edges.map((e) => e.node.organisation.identifier))],
});

const author = first?.author.id;
if (author === undefined) throw new Error("no published post to take an author from");
const created = await client.request(CreatePostDocument, {
  input: {
    identifier: "typed-client-post",
    title: "Written by a typed client",
    author,
    categoryPath: "tech.typescript",
    tags: ["typescript"],
  },
});
print("CreatePost", {
  status: created.createPost.status,
  success: created.createPost.status === MutationStatus.SUCCESS,
  post: created.createPost.post,
  errors: created.createPost.errors,
});
