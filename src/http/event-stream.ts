/**
 * @internal A subscription as Server-Sent Events: each event is a named SSE event (`ready`,
 * `created`, `updated`, `entered`, `deleted`, `left`, `gap`, `end`) whose data is the event as
 * JSON and whose `id` is its sequence (so a browser's `EventSource` resumes with `Last-Event-ID`);
 * a comment every `heartbeat` ms keeps idle connections open through proxies. The events a slow
 * client has not taken wait in the stream's queue, at most `maxBuffered` of them.
 * @module
 */
import type { SubscriptionSink } from "../data/context.js";

const encoder = new TextEncoder();

/** The frames of events given to several streams alike: each is written once. */
const frames = new WeakMap<object, Uint8Array>();

/** One SSE event: its name, its id (a sequence), its data as one JSON line. */
function frameOf(event: Readonly<Record<string, unknown>>): Uint8Array {
  let frame = frames.get(event);
  if (frame === undefined) frames.set(event, (frame = writeFrame(event)));
  return frame;
}

function writeFrame(event: Readonly<Record<string, unknown>>): Uint8Array {
  const type = String(event["type"]);
  const sequence = event["sequence"];
  const id = typeof sequence === "string" ? `id: ${sequence}\n` : "";
  // JSON.stringify escapes every line break of the data: it is one `data:` line.
  return encoder.encode(`event: ${type}\n${id}data: ${JSON.stringify(event)}\n\n`);
}

const HEARTBEAT = encoder.encode(": heartbeat\n\n");

/** A stream of SSE and the sink that writes to it; `subscribed` is told what ends the subscription. */
export interface EventStream {
  readonly body: ReadableStream<Uint8Array>;
  readonly sink: SubscriptionSink;
  /** Gives the stream the function that ends its subscription (called when the client goes). */
  subscribed(unsubscribe: () => void): void;
  /** Closes the stream without an `end` event (the subscription failed to start). */
  abort(): void;
}

/** Makes the stream of one subscription. */
export function eventStream(options: { heartbeat: number; maxBuffered: number }): EventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let unsubscribe: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    try {
      controller.close();
    } catch {
      // Already closed or errored by the client's going.
    }
  };
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        timer = setInterval(() => {
          // Only on a connection with nothing waiting: events that wait keep it busy enough.
          if (!closed && (controller.desiredSize ?? 0) >= 0) controller.enqueue(HEARTBEAT);
        }, options.heartbeat);
        timer.unref?.();
      },
      cancel() {
        // The client went away.
        closed = true;
        clearInterval(timer);
        unsubscribe?.();
      },
    },
    // Counted in events: desiredSize is minus the number of events waiting.
    new CountQueuingStrategy({ highWaterMark: 0 }),
  );
  return {
    body,
    sink: {
      push(event) {
        if (closed) return true;
        if ((controller.desiredSize ?? 0) <= -options.maxBuffered) return false;
        controller.enqueue(frameOf(event));
        return true;
      },
      end(reason) {
        if (closed) return;
        controller.enqueue(frameOf({ type: "end", reason }));
        close();
      },
    },
    subscribed(stop) {
      if (closed) stop();
      else unsubscribe = stop;
    },
    abort: close,
  };
}
