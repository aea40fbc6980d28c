/**
 * examples/cluster (`npm run example:cluster`): three instances and a round-robin proxy start on
 * a PostgreSQL schema of their own; what it prints answers as it says (each request on the next
 * instance, an SSE subscriber hearing a write and the job it enqueues); SIGTERM stops it all
 * gracefully, the subscriber's last event `end` with "closing", and it exits 0. PostgreSQL only:
 * skipped with the reason without CIMIENTO_TEST_POSTGRES_URL.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { adminQuery } from "../setup/dialects.js";
import { describe, expect, inject, test } from "vitest";
import { sseReader } from "../realtime/sse.js";

const root = join(import.meta.dirname, "..", "..");
const url = inject("postgresUrl");
const describeCluster = url === null ? describe.skip : describe;
const title = url === null ? "examples/cluster (skipped: CIMIENTO_TEST_POSTGRES_URL is not set)" : "examples/cluster";

const admin = (statement: string) => adminQuery(url!, statement);

describeCluster(title, () => {
  test("starts three instances behind the proxy, serves what it prints, and stops gracefully on SIGTERM", async () => {
    const schema = `example_cluster_${process.pid}_${Date.now().toString(36)}`;
    const child = spawn(process.execPath, ["--import", "tsx", join("examples", "cluster", "index.ts")], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: url!, CLUSTER_SCHEMA: schema, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the example did not start in time:\n${output}`)), 45_000);
        child.stdout.on("data", () => {
          if (!output.includes("Stop with Ctrl+C")) return;
          clearTimeout(timer);
          resolve();
        });
        void exited.then((code) => reject(new Error(`the example exited with ${code}:\n${output}`)));
      });
      const base = /the round-robin proxy listens on (http:\/\/localhost:\d+)/.exec(output)![1]!.replace("//localhost:", "//127.0.0.1:");
      const token = /The token ([A-Za-z0-9_-]{43}) signs in as ada@example.com/.exec(output)?.[1];
      expect(token, output).toBeDefined();
      expect(output).toContain(`curl -N http://localhost:${new URL(base).port}/collections/posts/subscribe -H 'authorization: Bearer ${token}'`);
      const auth = { authorization: `Bearer ${token}` };

      // Each request on the next instance.
      const instances = [];
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${base}/health`);
        expect(response.status).toBe(200);
        instances.push(response.headers.get("x-instance"));
      }
      expect(instances.sort()).toEqual(["a", "b", "c"]);

      // A subscriber on one instance hears a write through another, then the publication and the job's announcement.
      const subscribed = await fetch(`${base}/collections/posts/subscribe`, { headers: auth });
      expect(subscribed.status).toBe(200);
      const stream = sseReader(subscribed.body!);
      await stream.until(() => stream.events.some((event) => event.event === "ready"), 10_000);
      const write = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: JSON.stringify(body) });
      const created = await write("/collections/posts/records", { title: "Hello from the cluster" });
      expect(created.status).toBe(201);
      expect(created.headers.get("x-instance")).not.toBe(subscribed.headers.get("x-instance"));
      const { id } = (await created.json()) as { id: string };
      expect((await write("/actions/publish", { post: id })).status).toBe(200);
      await stream.until(() => stream.events.filter((event) => event.event === "updated").length >= 2, 10_000);
      const heard = stream.events.filter((event) => event.event !== "ready").map((event) => [event.event, event.data["record"]]);
      expect(heard[0]).toEqual(["created", expect.objectContaining({ id, title: "Hello from the cluster", published: false })]);
      expect(heard[1]).toEqual(["updated", expect.objectContaining({ id, published: true, announcedBy: null })]);
      expect(heard[2]).toEqual(["updated", expect.objectContaining({ id, published: true, announcedBy: expect.stringMatching(/^[abc]$/) })]);
      const runs = (await (await fetch(`${base}/collections/runs/records?where=${encodeURIComponent(JSON.stringify({ kind: "announce" }))}`)).json()) as {
        items: { key: string }[];
      };
      expect(runs.items.map((run) => run.key)).toEqual([id]);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      await stream.finished;
      expect(stream.events.at(-1)).toMatchObject({ event: "end", data: { type: "end", reason: "closing" } });
      expect(output).toContain("Stopped (instances exited with 0, 0, 0).");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await admin(`drop schema if exists "${schema}" cascade`);
    }
  }, 90_000);
});
