// The TanStack Query hooks: variables, data and mutate are typed.
import {
  recentPostsQueryKey,
  useCreatePostMutation,
  usePostByIdentifierQuery,
  useRecentPostsQuery,
} from "./generated/blog_hooks.js";

export function Component(): string {
  const recent = useRecentPostsQuery({ limit: 3 });
  const titles: string[] | undefined = recent.data?.posts.map((post) => post.title);
  const one = usePostByIdentifierQuery({ identifier: "welcome" }, { enabled: true });
  const count = useRecentPostsQuery({}, { select: (data) => data.posts.length });
  const size: number | undefined = count.data;
  // @ts-expect-error identifier is required
  usePostByIdentifierQuery({});
  // @ts-expect-error limit is an Int
  useRecentPostsQuery({ limit: "3" });
  const create = useCreatePostMutation({ onSuccess: (data) => void data.createPost.status });
  create.mutate({ input: { identifier: "x", title: "x", author: "alice", categoryPath: "a.b" } });
  // @ts-expect-error the input misses its required fields
  create.mutate({ input: { identifier: "x" } });
  const key: readonly ["RecentPosts", { limit?: number | null }] = recentPostsQueryKey({ limit: 3 });
  void [titles, size, key];
  return one.data?.post?.title ?? "";
}
