/**
 * A React page over the quickstart's API through `cimiento/client`: the posts the caller may
 * see, sign-in and sign-out with the session cookie, and a form that writes a draft and shows
 * each field's issue. Served from the API's origin, so the browser sends the cookie by itself.
 */
import { useEffect, useState, type FormEvent } from "react";
import { createClient, isApiError } from "cimiento/client";
import type { openBackend } from "../quickstart/backend.js";

/** The type of the quickstart's backend: a type import, so nothing of the server is bundled. */
type Backend = Awaited<ReturnType<typeof openBackend>>["backend"];

export const client = createClient<Backend>({ baseUrl: "/api" });

/** The posts the page shows: newest first, with their author's name. */
const listPosts = () =>
  client.collections.posts.list({ orderBy: [{ createdAt: "desc" }], select: ["title", "published"], include: { author: { select: ["name"] } } });

type Post = Awaited<ReturnType<typeof listPosts>>["items"][number];

export function Posts() {
  const [name, setName] = useState<string | null | undefined>(undefined); // undefined: not known yet
  const [posts, setPosts] = useState<Post[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    void client.auth.session().then((current) => setName(current?.user.name ?? null));
  }, []);
  useEffect(() => {
    if (name !== undefined) void listPosts().then((page) => setPosts(page.items));
  }, [name]);

  async function signIn(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const { user } = await client.auth.signIn({ email: String(form.get("email")), password: String(form.get("password")) });
      setProblem(null);
      setName(user.name);
    } catch (error) {
      setProblem(isApiError(error, "INVALID_CREDENTIALS") ? "Wrong e-mail address or password." : String(error));
    }
  }

  async function addDraft(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    try {
      const post = await client.collections.posts.create({ title: String(form.get("title")), slug: String(form.get("slug")) });
      setProblem(null);
      setPosts([{ id: post.id, title: post.title, published: post.published, author: { id: post.author, name: name ?? "" } }, ...posts]);
    } catch (error) {
      if (!isApiError(error, "VALIDATION_FAILED")) throw error;
      setProblem(error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; "));
    }
  }

  async function signOut() {
    await client.auth.signOut();
    setName(null);
  }

  if (name === undefined) return <p>Loading…</p>;
  return (
    <main>
      {name === null ? (
        <form onSubmit={signIn} aria-label="sign in">
          <input name="email" type="email" placeholder="E-mail" />
          <input name="password" type="password" placeholder="Password" />
          <button type="submit">Sign in</button>
        </form>
      ) : (
        <>
          <p>
            Signed in as <strong id="user">{name}</strong> <button onClick={signOut}>Sign out</button>
          </p>
          <form onSubmit={addDraft} aria-label="new draft">
            <input name="title" placeholder="Title" />
            <input name="slug" placeholder="slug" />
            <button type="submit">Add a draft</button>
          </form>
        </>
      )}
      {problem !== null && <p role="alert">{problem}</p>}
      <ul id="posts">
        {posts.map((post) => (
          <li key={post.id}>
            {post.title} by {post.author?.name}
            {post.published ? "" : " (draft)"}
          </li>
        ))}
      </ul>
    </main>
  );
}
