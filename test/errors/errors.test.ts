import { describe, expect, expectTypeOf, test } from "vitest";
import { ApiError, ERROR_CODES, SchemaError, defineErrors, toApiError } from "cimiento";

describe("defineErrors", () => {
  test("returns a typed factory per code that builds an ApiError with its status", () => {
    const errors = defineErrors({ POST_NOT_FOUND: 404, ALREADY_PUBLISHED: 409 });
    const error = errors.ALREADY_PUBLISHED("Already published", { id: "p1" });
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, code: "ALREADY_PUBLISHED", message: "Already published", details: { id: "p1" } });
    expectTypeOf(error).toEqualTypeOf<ApiError<"ALREADY_PUBLISHED">>();
    // @ts-expect-error: not a declared code
    expect(errors.NOPE).toBeUndefined();
  });

  test("refuses codes that are not UPPER_SNAKE and statuses that are not errors", () => {
    expect(() => defineErrors({ postNotFound: 404 })).toThrow(new SchemaError('Error code "postNotFound" is not UPPER_SNAKE.'));
    expect(() => defineErrors({ OK: 200 })).toThrow(
      new SchemaError('Error code "OK" has status 200; an error status is from 400 to 599.'),
    );
  });
});

describe("toApiError", () => {
  test("keeps an ApiError as it is", () => {
    const error = new ApiError(409, "TAKEN", "Taken");
    expect(toApiError(error)).toBe(error);
  });

  test("turns any other error into INTERNAL without its message or details", () => {
    const safe = toApiError(new Error("connection to 10.0.0.5 refused: password=hunter2"));
    expect(safe).toMatchObject({ status: 500, code: "INTERNAL", message: "Something went wrong on our side." });
    expect(safe.details).toBeUndefined();
    expect(JSON.stringify(safe)).not.toContain("hunter2");
  });

  test("every built-in code has an HTTP error status", () => {
    for (const [code, status] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});
