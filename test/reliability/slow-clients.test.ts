/**
 * Slow and hostile clients against `toNodeHandler` on `node:http` with the timeouts
 * docs/deploy.md recommends (here shortened): headers sent a byte at a time (slow-loris) and a
 * body that never finishes are cut by the server's own timeouts, the backend logs nothing as an
 * error for them, and other clients are served meanwhile.
 */
import { createServer, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { sqlite } from "cimiento/sqlite";
import { toNodeHandler } from "cimiento/node";
import { quietLogger } from "../jobs/support.js";

const notes = collection("notes", { fields: { text: field.text() }, access: { list: () => true, create: () => true } });

let server: Server;
let port: number;
let logger: ReturnType<typeof quietLogger>;
let backend: ReturnType<typeof createBackend<{ notes: typeof notes }>>;

beforeEach(async () => {
  logger = quietLogger();
  backend = createBackend({ database: sqlite({ file: ":memory:" }), collections: { notes }, logger });
  await backend.migrate();
  server = createServer({ headersTimeout: 1_000, requestTimeout: 2_000, connectionsCheckingInterval: 100 }, toNodeHandler(backend));
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await backend.close();
});

/** Opens a raw connection; resolves with it once connected. */
function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.on("error", reject);
  });
}

/** Resolves with what the server sent, and when, once it closed the connection. */
function closed(socket: Socket): Promise<{ received: string; at: number }> {
  let received = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (received += chunk));
  socket.removeAllListeners("error");
  socket.on("error", () => {});
  return new Promise((resolve) => socket.on("close", () => resolve({ received, at: performance.now() })));
}

test("slow-loris: 50 connections sending headers a byte at a time are cut after headersTimeout; others are served", async () => {
  const started = performance.now();
  const sockets = await Promise.all(Array.from({ length: 50 }, open));
  const ends = sockets.map(closed);
  const timers = sockets.map((socket) => {
    socket.write("GET /collections/notes/records HTTP/1.1\r\nHost: x\r\n");
    return setInterval(() => {
      if (!socket.destroyed) socket.write("X");
    }, 100);
  });
  try {
    // Meanwhile, a client that sends its request whole is answered.
    const answered = await fetch(`http://127.0.0.1:${port}/collections/notes/records`);
    expect(answered.status).toBe(200);
    const results = await Promise.all(ends);
    for (const { at } of results) expect(at - started).toBeLessThan(4_000);
    // Node answers 408 to a request whose headers did not arrive in time, then closes.
    expect(results.every(({ received }) => received === "" || received.startsWith("HTTP/1.1 408"))).toBe(true);
  } finally {
    for (const timer of timers) clearInterval(timer);
  }
  expect(logger.errors).toEqual([]);
});

test("a body that never finishes is cut after requestTimeout, without an error logged", async () => {
  const socket = await open();
  const end = closed(socket);
  const started = performance.now();
  socket.write("POST /collections/notes/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"text\":");
  const { received, at } = await end;
  expect(at - started).toBeLessThan(5_000);
  expect(at - started).toBeGreaterThan(1_500);
  expect(received).toMatch(/^HTTP\/1\.1 408/);
  // Nothing was written, and nothing is logged as an error of the backend.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(logger.errors).toEqual([]);
  const listed = await fetch(`http://127.0.0.1:${port}/collections/notes/records`);
  expect(((await listed.json()) as { items: unknown[] }).items).toEqual([]);
});
