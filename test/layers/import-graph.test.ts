import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { importGraph, LAYERS } from "../../scripts/import-graph.js";

describe("the layers of src/", () => {
  test("no file imports another that imports it back, type imports included, and no import goes up the layers or between peers", () => {
    const { circles, upward } = importGraph(resolve(import.meta.dirname, "../../src"));
    expect(circles).toEqual([]);
    expect(upward).toEqual([]);
  });

  test("every folder and file at the top of src/ has its place in the layers", () => {
    const placed = new Set(LAYERS.flat());
    const entries = readdirSync(resolve(import.meta.dirname, "../../src"));
    expect(entries.length).toBeGreaterThan(10);
    expect(entries.filter((entry) => !placed.has(entry))).toEqual([]);
  });

  describe("the check", () => {
    const root = mkdtempSync(join(tmpdir(), "cimiento-layers-"));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    };
    write("low/a.ts", 'import type { B } from "./b.js";\nexport type A = B[];\n');
    write("low/b.ts", 'import type { A } from "./a.js";\nimport type { H } from "../high/h.js";\nexport type B = A | H;\n');
    write("high/h.ts", 'import type { A } from "../low/a.js";\nexport type H = A;\n');
    write("peer/p.ts", 'import type { Q } from "../other/q.js";\nexport type P = Q;\n');
    write("other/q.ts", "export type Q = string;\n");

    test("finds files that import each other, through type imports, and imports up the layers or between peers", () => {
      const { circles, upward } = importGraph(root, [["low"], ["high"], ["peer", "other"]]);
      expect(circles).toEqual([["high/h.ts", "low/a.ts", "low/b.ts"]]);
      expect(upward).toEqual(["low/b.ts -> high/h.ts", "peer/p.ts -> other/q.ts"]);
    });

    test("a folder missing from the layers may not be imported", () => {
      const { upward } = importGraph(root, [["low"], ["peer", "other"]]);
      expect(upward).toContain("low/b.ts -> high/h.ts");
    });
  });
});
