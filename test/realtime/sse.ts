/** A client's reading of a Server-Sent Events body, for the suites that run servers in other processes. */

/** An SSE event as a client parses it. */
export interface SseEvent {
  event: string;
  id?: string;
  data: Record<string, unknown>;
  /** When it arrived (`performance.now()`). */
  at: number;
}

/** Reads an SSE body event by event (comments are counted); `until` waits for a condition. */
export function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let comments = 0;
  const events: SseEvent[] = [];
  let endedAt: number | undefined;
  const finished = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let at: number;
      while ((at = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        if (block.startsWith(":")) {
          comments++;
          continue;
        }
        const event: SseEvent = { event: "message", data: {}, at: performance.now() };
        for (const line of block.split("\n")) {
          const colon = line.indexOf(": ");
          const [name, value] = [line.slice(0, colon), line.slice(colon + 2)];
          if (name === "event") event.event = value;
          else if (name === "id") event.id = value;
          else if (name === "data") event.data = JSON.parse(value) as Record<string, unknown>;
        }
        events.push(event);
      }
    }
    endedAt = performance.now();
  })();
  return {
    events,
    comments: () => comments,
    ended: () => endedAt !== undefined,
    /** When the body ended (`performance.now()`), once it has. */
    endedAt: () => endedAt,
    finished,
    cancel: () => reader.cancel().catch(() => {}),
    async until(check: () => boolean, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out; heard ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}
