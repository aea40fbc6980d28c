/**
 * The cluster example: three instances of one backend (examples/cluster/backend.ts) on one
 * PostgreSQL schema, behind a round-robin proxy. Run it with `npm run example:cluster`.
 *
 * DATABASE_URL (default postgres://root@127.0.0.1:5432/test), CLUSTER_SCHEMA (default
 * cimiento_cluster) and PORT (the proxy's, default 3000; 0 for any free one) change where it
 * runs. Ctrl+C (SIGINT) or SIGTERM stops the proxy, then each instance gracefully.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import pg from "pg";
import { clusterBackend } from "./backend.js";
import { roundRobinProxy } from "./proxy.js";

const url = process.env["DATABASE_URL"] ?? "postgres://root@127.0.0.1:5432/test";
const schema = process.env["CLUSTER_SCHEMA"] ?? "cimiento_cluster";
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(schema)) throw new Error(`CLUSTER_SCHEMA must be a plain identifier, not "${schema}".`);
const names = ["a", "b", "c"];

// The schema, and its tables once, before the instances start (each migrates too, and finds it up to date).
const admin = new pg.Client({ connectionString: url });
await admin.connect();
await admin.query(`create schema if not exists "${schema}"`);
await admin.end();
const migrating = clusterBackend({ url, schema });
const applied = await migrating.migrate();
await migrating.close();
console.log(`Database ${url}, schema ${schema}: ${applied.changes.length === 0 ? "up to date" : `${applied.changes.length} change(s) applied`}.`);

interface Instance {
  readonly name: string;
  readonly child: ChildProcess;
  readonly origin: string;
}

/** Starts one instance (in its own process group: Ctrl+C reaches it through this process). */
async function startInstance(name: string): Promise<Instance> {
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "instance.ts")], {
    env: { ...process.env, INSTANCE: name, PORT: "0", DATABASE_URL: url, CLUSTER_SCHEMA: schema },
    stdio: ["ignore", "pipe", "inherit", "ipc"],
    detached: true,
  });
  let out = "";
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`Instance ${name} exited (${code}) before it was ready.`)));
  });
  child.stdout!.resume();
  return { name, child, origin: `http://127.0.0.1:${port}` };
}

const instances = await Promise.all(names.map(startInstance));
const proxy = roundRobinProxy(instances.map((instance) => instance.origin));
proxy.listen(Number(process.env["PORT"] ?? 3000), "127.0.0.1");
await once(proxy, "listening");
const base = `http://localhost:${(proxy.address() as AddressInfo).port}`;

// A demo account, made (or signed in to) through the proxy, for the curl lines below.
const credentials = { email: "ada@example.com", password: "correct horse battery" };
const post = (path: string, body: unknown, token?: string) =>
  fetch(`${base.replace("localhost", "127.0.0.1")}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
let session = await post("/auth/sign-up", credentials);
if (session.status === 409) session = await post("/auth/sign-in", credentials);
if (!session.ok) throw new Error(`The demo account could not sign in: ${session.status} ${await session.text()}`);
const { token } = (await session.json()) as { token: string };

const auth = `-H 'authorization: Bearer ${token}'`;
const json = "-H 'content-type: application/json'";
console.log(`
Three instances (${instances.map((instance) => `${instance.name} on ${instance.origin}`).join(", ")})
share one database; the round-robin proxy listens on ${base}.
The token ${token} signs in as ${credentials.email}.

Each request goes to the next instance (see X-Instance):
curl -si ${base}/health | grep -i x-instance

In another terminal, subscribe to posts as Server-Sent Events (this connection stays on one instance):
curl -N ${base}/collections/posts/subscribe ${auth}

Write through another instance; the subscriber hears "created":
curl -s -X POST ${base}/collections/posts/records ${auth} ${json} -d '{"title":"Hello from the cluster"}'

Publish it (use its id): the action enqueues a job that any instance's worker runs, and the
subscriber hears two "updated" events (published, then announcedBy):
curl -s -X POST ${base}/actions/publish ${auth} ${json} -d '{"post":"<id>"}'

What the jobs did, and where (the schedule "heartbeat" runs every ten seconds, once per tick):
curl -s '${base}/collections/runs/records?orderBy=-createdAt&limit=10'

Signing out through one instance is refused at once by the others (401):
curl -s -X POST ${base}/auth/sign-out ${auth} -o /dev/null -w '%{http_code}\\n'
curl -s ${base}/auth/session ${auth}

Stop with Ctrl+C; the data is kept in the schema ${schema}.`);

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: the proxy takes no new connection; each instance shuts down gracefully.`);
  // Open event streams stay until their instance ends them (their last event: end, "closing").
  proxy.close();
  proxy.closeIdleConnections();
  const codes = await Promise.all(
    instances.map(async ({ child }) => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = (await exited) as [number | null];
      return code;
    }),
  );
  proxy.closeAllConnections();
  console.log(`Stopped (instances exited with ${codes.join(", ")}).`);
  process.exit(codes.every((code) => code === 0) ? 0 : 1);
}
// Ctrl+C may arrive twice (from the terminal, and relayed by npm or tsx): the second is ignored.
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
for (const { name, child } of instances) {
  child.once("exit", (code, signal) => {
    if (!stopping) console.error(`Instance ${name} exited (${code ?? signal}); the proxy sends its requests to the others.`);
  });
}
