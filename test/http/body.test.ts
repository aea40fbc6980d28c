import { describe, expect, test } from "vitest";
import { bodyText, isNodeHttp1 } from "../../src/http/body.js";
import { ApiError } from "../../src/errors/api-error.js";

const post = (body: string, headers: Record<string, string> = {}) => new Request("http://x/", { method: "POST", body, headers });

async function refusal(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(ApiError);
  return (error as ApiError).code;
}

/** A body that streams `chunks` and says how many of them were pulled. */
function streamed(chunks: string[]) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled === chunks.length) controller.close();
      else controller.enqueue(new TextEncoder().encode(chunks[pulled++]!));
    },
  });
  return { request: new Request("http://x/", { method: "POST", body: stream, duplex: "half" } as RequestInit), pulled: () => pulled };
}

describe("reading a body within the limit", () => {
  test("a body with Content-Length within the limit is read whole", async () => {
    expect(await bodyText(post("héllo", { "content-length": "6" }), 6, true)).toBe("héllo");
  });

  test("a Content-Length past the limit is refused before the body is read", async () => {
    const request = post("x".repeat(20), { "content-length": "20" });
    expect(await refusal(bodyText(request, 10, false))).toBe("PAYLOAD_TOO_LARGE");
    expect(request.bodyUsed).toBe(false);
  });

  test("a body without a length is counted as it streams, and refused at the first chunk past the limit", async () => {
    const body = streamed(["12345", "67890", "abcde", "fghij"]);
    expect(await refusal(bodyText(body.request, 12, false))).toBe("PAYLOAD_TOO_LARGE");
    expect(body.pulled()).toBe(3);
  });

  test("a body without a length within the limit is read in full, across chunks", async () => {
    const euro = new TextEncoder().encode("€");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(euro.slice(0, 1));
        controller.enqueue(euro.slice(1));
        controller.close();
      },
    });
    const request = new Request("http://x/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(await bodyText(request, 3, false)).toBe("€");
  });

  test("over HTTP/1 with neither Content-Length nor Transfer-Encoding there is no body; elsewhere the stream is read", async () => {
    expect(await bodyText(post("ignored"), 100, true)).toBe("");
    expect(await bodyText(post("read"), 100, false)).toBe("read");
  });

  test("a chunked HTTP/1 body is counted against the limit as it streams", async () => {
    const body = streamed(["12345", "67890"]);
    const request = new Request(body.request, { headers: { "transfer-encoding": "chunked" } });
    expect(await refusal(bodyText(request, 8, true))).toBe("PAYLOAD_TOO_LARGE");
  });

  test("only Node's HTTP/1 requests count as HTTP/1", () => {
    expect(isNodeHttp1({ incoming: { httpVersionMajor: 1 } })).toBe(true);
    expect(isNodeHttp1({ incoming: { httpVersionMajor: 2 } })).toBe(false);
    expect(isNodeHttp1(undefined)).toBe(false);
    expect(isNodeHttp1({})).toBe(false);
  });
});
