/**
 * @internal Subscriptions of the client: Server-Sent Events read with `fetch` (so that they carry
 * the client's bearer token and credentials), parsed by the rules of the WHATWG HTML standard,
 * and read again after a dropped connection, from the last event heard.
 * @module
 */
import { ApiError } from "./api-error.js";

type Json = Record<string, unknown>;

/** What a stream's reader keeps across connections: the last event id, and the server's `retry`. */
interface SseState {
  id: string;
  retry: number;
}

/** Opens the stream resuming after an event (`undefined`: from now); throws the ApiError of a refusal. */
export type OpenStream = (after: string | undefined, signal: AbortSignal) => Promise<Response>;

/**
 * The data of each event of an SSE body, as the WHATWG rules dispatch them: lines end with CRLF,
 * LF or CR; `:` starts a comment; `data` lines join with LF; `id` is kept in `state` when its
 * event is dispatched; `retry` sets the reconnection time; an event not ended by a blank line
 * is dropped.
 */
export async function* sseData(body: ReadableStream<Uint8Array>, state: SseState): AsyncGenerator<string, void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const breaks = /\r\n?|\n/g;
  let buffer = "";
  let data = "";
  let id = state.id;
  // A CR that ended the text so far: an LF that starts the next chunk belongs to it.
  let cr = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      let text = decoder.decode(value, { stream: true });
      if (cr && text !== "") {
        if (text[0] === "\n") text = text.slice(1);
        cr = false;
      }
      buffer += text;
      let start = 0;
      let found: RegExpExecArray | null;
      breaks.lastIndex = 0;
      while ((found = breaks.exec(buffer)) !== null) {
        const line = buffer.slice(start, found.index);
        start = breaks.lastIndex;
        cr = found[0] === "\r" && start === buffer.length;
        if (line === "") {
          state.id = id;
          if (data !== "") yield data.slice(0, -1);
          data = "";
          continue;
        }
        const colon = line.indexOf(":");
        if (colon === 0) continue;
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? "" : line.slice(colon + 1);
        if (value[0] === " ") value = value.slice(1);
        if (field === "data") data += `${value}\n`;
        else if (field === "id" && !value.includes("\0")) id = value;
        else if (field === "retry" && /^\d+$/.test(value)) state.retry = Number(value);
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** Waits `ms`, or less when `signal` aborts (its listener removed either way: reconnections do not pile them up). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}

/**
 * The events of a subscription, across connections. A refusal of the first connection is
 * thrown. After a dropped connection (a network error, a body that ends without `end`) it
 * connects again after a growing delay (half a second, doubled each failure, at most 30 s, or the
 * server's `retry`), resuming after the last event id, so that no event is heard twice or
 * missed while the event log holds it (else `gap`); the `ready` of a reconnection is not heard
 * again. A refused reconnection ends it: `end` with `"revoked"` for a 401, `"error"` for another
 * refusal but 408, 429 and 5xx, after which it tries again. It ends with `end`, or when
 * `signal` aborts.
 */
export async function* subscription(open: OpenStream, after: string | undefined, signal: AbortSignal): AsyncGenerator<Json, void> {
  const state: SseState = { id: after ?? "", retry: 0 };
  let started = false;
  let ready = false;
  let failures = 0;
  for (;;) {
    try {
      const response = await open(state.id === "" ? undefined : state.id, signal);
      started = true;
      for await (const data of sseData(response.body!, state)) {
        const event = JSON.parse(data) as Json;
        failures = 0;
        if (event["type"] === "ready") {
          if (ready) continue;
          ready = true;
        }
        yield event;
        if (event["type"] === "end") return;
      }
    } catch (error) {
      if (signal.aborted) return;
      if (!started) throw error;
      const status = error instanceof ApiError ? error.status : 0;
      if (status !== 0 && status < 500 && status !== 408 && status !== 429) {
        yield { type: "end", reason: status === 401 ? "revoked" : "error" };
        return;
      }
    }
    if (signal.aborted) return;
    const delay = state.retry || Math.min(30_000, 500 * 2 ** failures++);
    await sleep(delay * (0.5 + Math.random() / 2), signal);
    if (signal.aborted) return;
  }
}
