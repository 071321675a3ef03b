// Type assertions on the code generated for the blog: each @ts-expect-error must be an error.
import { request } from "graphql-request";
import {
  CreatePostDocument,
  MutationStatus,
  OrganisationsDocument,
  PostStatus,
  PostsPageDocument,
  RecentPostsDocument,
  type CreatePostInput,
  type PostSummaryFragment,
  type RecentPostsQuery,
} from "./generated/blog.js";

const url = "http://127.0.0.1/graphql";

export async function checks(): Promise<void> {
  const recent = await request(url, RecentPostsDocument, { limit: 2, where: { status: { eq: "PUBLISHED" } } });
  const first = recent.posts[0];
  if (first !== undefined) {
    const title: string = first.headline;
    const typename: "Post" = first.__typename;
    const rating: number | null = first.rating;
    const status: PostStatus = first.status;
    const email: string = first.author.email;
    const summary: PostSummaryFragment = first;
    void [title, typename, rating, status, email, summary];
    // @ts-expect-error no such field was selected
    first.missing;
    // @ts-expect-error rating may be null
    const wrong: number = first.rating;
    // @ts-expect-error publishedAt is a DateTime string (or null), not a Date
    const when: Date = first.publishedAt;
    void [wrong, when];
  }
  // @ts-expect-error limit is an Int
  await request(url, RecentPostsDocument, { limit: "2" });
  // @ts-expect-error not a PostStatus
  await request(url, RecentPostsDocument, { where: { status: { eq: "GONE" } } });
  // @ts-expect-error `first` and `status` are required
  await request(url, PostsPageDocument, { after: null });
  await request(url, PostsPageDocument, { first: 2, status: PostStatus.PUBLISHED });
  await request(url, OrganisationsDocument);

  const input: CreatePostInput = {
    identifier: "hello",
    title: "Hello",
    author: "alice",
    categoryPath: "tech.databases",
  };
  const created = await request(url, CreatePostDocument, { input });
  const ok: boolean = created.createPost.status === MutationStatus.SUCCESS;
  const version: number | undefined = created.createPost.post?.version;
  void [ok, version];
  // @ts-expect-error categoryPath is required
  const partial: CreatePostInput = { identifier: "x", title: "x", author: "x" };
  // @ts-expect-error the mutation needs its input
  await request(url, CreatePostDocument, {});
  void partial;
}

type Post = RecentPostsQuery["posts"][number];
// @ts-expect-error comments is a list
export const notAList: Post["comments"] = { id: "1", body: "", author: { name: "" } };
