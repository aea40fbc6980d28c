import { describe, expect, test } from "vitest";
import { bodyText, nodeHttp1, type Http1Incoming } from "../../src/http/body.js";
import { ApiError } from "../../src/errors/api-error.js";

/** Node's HTTP/1 request as the body reader sees it, with `headers`: counts the times it was let end. */
function incoming(headers: Record<string, string> = {}): Http1Incoming & { resumed: number } {
  return {
    headers,
    resumed: 0,
    resume() {
      this.resumed++;
    },
  };
}

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
    expect(await bodyText(post("héllo", { "content-length": "6" }), 6, incoming())).toBe("héllo");
  });

  test("a Content-Length past the limit is refused before the body is read", async () => {
    const request = post("x".repeat(20), { "content-length": "20" });
    expect(await refusal(bodyText(request, 10))).toBe("PAYLOAD_TOO_LARGE");
    expect(request.bodyUsed).toBe(false);
  });

  test("a body without a length is counted as it streams, and refused at the first chunk past the limit", async () => {
    const body = streamed(["12345", "67890", "abcde", "fghij"]);
    expect(await refusal(bodyText(body.request, 12))).toBe("PAYLOAD_TOO_LARGE");
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
    expect(await bodyText(request, 3)).toBe("€");
  });

  test("over HTTP/1 with neither Content-Length nor Transfer-Encoding there is no body, and Node's request is let end; elsewhere the stream is read", async () => {
    const http1 = incoming();
    const request = post("ignored");
    expect(await bodyText(request, 100, http1)).toBe("");
    expect(http1.resumed).toBe(1);
    expect(request.bodyUsed).toBe(false);
    expect(await bodyText(post("read"), 100)).toBe("read");
  });

  test("over HTTP/1, a request without framing headers over a Node request with them (a host's replacement) is read as a stream", async () => {
    const http1 = incoming({ "content-length": "2" });
    expect(await bodyText(post('{"replaced":true}'), 100, http1)).toBe('{"replaced":true}');
    expect(http1.resumed).toBe(0);
  });

  test("a body with a length is read from the request, and Node's request is not resumed by the reader", async () => {
    const http1 = incoming({ "content-length": "2" });
    expect(await bodyText(post("{}", { "content-length": "2" }), 100, http1)).toBe("{}");
    expect(http1.resumed).toBe(0);
  });

  test("a chunked HTTP/1 body is counted against the limit as it streams", async () => {
    const body = streamed(["12345", "67890"]);
    const request = new Request(body.request, { headers: { "transfer-encoding": "chunked" } });
    expect(await refusal(bodyText(request, 8, incoming()))).toBe("PAYLOAD_TOO_LARGE");
  });

  test("only Node's HTTP/1 requests count as HTTP/1", () => {
    const node = { httpVersionMajor: 1, headers: {}, resume: () => undefined };
    expect(nodeHttp1({ incoming: node })).toBe(node);
    expect(nodeHttp1({ incoming: { ...node, httpVersionMajor: 2 } })).toBeUndefined();
    expect(nodeHttp1({ incoming: { httpVersionMajor: 1, headers: {} } })).toBeUndefined();
    expect(nodeHttp1({ incoming: { httpVersionMajor: 1, resume: () => undefined } })).toBeUndefined();
    expect(nodeHttp1(undefined)).toBeUndefined();
    expect(nodeHttp1({})).toBeUndefined();
  });
});
