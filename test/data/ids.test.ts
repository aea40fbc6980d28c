import { describe, expect, it, vi } from "vitest";
import { validate, version } from "uuid";
import { newId } from "../../src/support/ids.js";

describe("record ids", () => {
  it("are valid UUIDv7, unique and strictly increasing in the order they were made", () => {
    const ids = Array.from({ length: 5000 }, () => newId());
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
      // RFC 9562 variant: the first hex digit of the fourth group is 8, 9, a or b.
      expect(id[19]).toMatch(/[89ab]/);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (let i = 1; i < ids.length; i++) expect(ids[i - 1]! < ids[i]!).toBe(true);
  });

  it("carry the time they were made, and stay increasing when the clock goes back", () => {
    vi.useFakeTimers({ now: Date.UTC(2030, 0, 1), toFake: ["Date"] });
    try {
      const first = newId();
      expect(parseInt(first.replaceAll("-", "").slice(0, 12), 16)).toBe(Date.UTC(2030, 0, 1));
      vi.setSystemTime(Date.UTC(2029, 0, 1));
      const later = Array.from({ length: 600 }, () => newId());
      expect(first < later[0]!).toBe(true);
      for (let i = 1; i < later.length; i++) expect(later[i - 1]! < later[i]!).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
