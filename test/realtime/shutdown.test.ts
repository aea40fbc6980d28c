/**
 * closeOnSignals and open event streams: the shutdown ends every subscription at once, its last
 * event `end` with "closing", and the server closes without waiting for its timeout (nor for the
 * client to drop its kept-alive connection).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { closeOnSignals, toNodeHandler } from "cimiento/node";
import { describeEachDatabase } from "../setup/dialects.js";
import { recordingLogger } from "../auth/support.js";
import { sseReader } from "./sse.js";

const posts = collection("posts", { fields: { title: field.text() }, realtime: true, access: { list: () => true } });

describeEachDatabase("closeOnSignals with open event streams", (db) => {
  test("the shutdown ends the streams with closing at once, not at its timeout", async () => {
    const fresh = await db.fresh();
    const backend = createBackend({ database: fresh.database, collections: { posts }, logger: recordingLogger() });
    try {
      await backend.migrate();
      const server = createServer(toNodeHandler(backend));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const streams = await Promise.all([0, 1].map(async () => sseReader((await fetch(`${base}/collections/posts/subscribe`)).body!)));
      for (const stream of streams) await stream.until(() => stream.events.length >= 1);
      const logged: string[] = [];
      const shutdown = closeOnSignals(server, backend, { signals: [], exit: false, timeout: 5_000, log: (message) => logged.push(message) });
      const started = performance.now();
      await shutdown();
      const took = performance.now() - started
      for (const stream of streams) {
        await stream.finished;
        expect(stream.events.map((event) => event.event)).toEqual(["ready", "end"]);
        expect(stream.events[1]!.data).toEqual({ type: "end", reason: "closing" });
      }
      expect(took).toBeLessThan(2_000);
      expect(logged).toEqual([]); // nothing was cut
      expect(server.listening).toBe(false);
    } finally {
      await backend.close();
      await fresh.drop();
    }
  });
});
