/**
 * Pagination over HTTP: following `nextCursor` returns every record exactly once, in order, even
 * when many records share their sort keys (and nulls among them); a cursor only fits its own
 * query. Each runs through fetch, Express and Hono, on every database.
 */
import { beforeAll, expect, test } from "vitest";
import { collection, createBackend, field } from "cimiento";
import { describeEachServer, read, REQUEST_ID } from "./support.js";

const items = collection("items", {
  fields: {
    group: field.integer(),
    label: field.text(),
    score: field.number().optional(),
  },
  access: { list: () => true, get: () => true },
});

type Item = { id: string; group: number; label: string; score: number | null };
type Page = { items: Item[]; nextCursor: string | null; total?: number };

const COUNT = 61;

describeEachServer(
  "HTTP pagination",
  (database) => createBackend({ database, collections: { items } }),
  (served) => {
    let ids: string[];

    beforeAll(async () => {
      const created = await served.backend.system.data.items.createMany(
        Array.from({ length: COUNT }, (_, i) => ({
          group: i % 3, // about 20 records per group
          label: ["b", "a", "c", "a"][i % 4]!, // and fewer distinct labels still
          score: i % 5 === 0 ? null : i % 2,
        })),
      );
      ids = created.map((item) => item.id).sort();
    });

    /** Follows nextCursor from the first page to the last; returns every page. */
    async function pages(query: string): Promise<Page[]> {
      const result: Page[] = [];
      let cursor: string | null = null;
      do {
        const suffix: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
        const response = await served.request(`/collections/items/records?${query}${suffix}`);
        expect(response.status).toBe(200);
        const page = (await response.json()) as Page;
        result.push(page);
        cursor = page.nextCursor;
        expect(result.length).toBeLessThan(COUNT + 2);
      } while (cursor !== null);
      return result;
    }

    const byScore = (a: Item, b: Item) => (a.score === b.score ? 0 : a.score === null ? -1 : b.score === null ? 1 : a.score - b.score);
    const byLabel = (a: Item, b: Item) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    // Each order, and how records compare by its keys. The id breaks ties, in the direction of
    // the last key.
    const ORDERS: [string, (a: Item, b: Item) => number, "asc" | "desc"][] = [
      ["", () => 0, "asc"],
      ["orderBy=group", (a, b) => a.group - b.group, "asc"],
      ["orderBy=-group", (a, b) => b.group - a.group, "desc"],
      ["orderBy=group,-label", (a, b) => a.group - b.group || -byLabel(a, b), "desc"],
      ["orderBy=-label,group", (a, b) => -byLabel(a, b) || a.group - b.group, "asc"],
      // nulls first ascending, last descending
      ["orderBy=score", byScore, "asc"],
      ["orderBy=-score,group", (a, b) => -byScore(a, b) || a.group - b.group, "asc"],
    ];

    for (const [order, compare, idDirection] of ORDERS) {
      for (const limit of [1, 7, 20]) {
        test(`every record exactly once, in order: ${order || "(id order)"}, limit ${limit}`, async () => {
          const all = await pages(`limit=${limit}${order ? `&${order}` : ""}`);
          const seen = all.flatMap((page) => page.items);
          expect(seen.map((item) => item.id).sort()).toEqual(ids);
          expect(new Set(seen.map((item) => item.id)).size).toBe(COUNT);
          for (let i = 1; i < seen.length; i++) {
            const [a, b] = [seen[i - 1]!, seen[i]!];
            const byKeys = compare(a, b);
            const byId = idDirection === "asc" ? a.id < b.id : a.id > b.id;
            expect(byKeys < 0 || (byKeys === 0 && byId), `${JSON.stringify(a)} before ${JSON.stringify(b)}`).toBe(true);
          }
          expect(all.slice(0, -1).every((page) => page.items.length === limit)).toBe(true);
          expect(all.at(-1)!.nextCursor).toBeNull();
        });
      }
    }

    test("the default page size (20) pages through everything too", async () => {
      const all = await pages("orderBy=group");
      expect(all.map((page) => page.items.length)).toEqual([20, 20, 20, 1]);
      expect(all.flatMap((page) => page.items.map((item) => item.id)).sort()).toEqual(ids);
    });

    test("with where and count, pages cover exactly the matching records, and total stays", async () => {
      const where = encodeURIComponent(JSON.stringify({ group: 1 }));
      const all = await pages(`where=${where}&orderBy=label&limit=6&count=true`);
      const matching = await served.backend.system.data.items.list({ where: { group: 1 }, limit: 100 });
      expect(all.flatMap((page) => page.items.map((item) => item.id)).sort()).toEqual(matching.items.map((item) => item.id).sort());
      expect(new Set(all.map((page) => page.total))).toEqual(new Set([matching.items.length]));
    });

    test("a record created between pages does not shift them", async () => {
      const first = (await (await served.request("/collections/items/records?orderBy=group&limit=10")).json()) as Page;
      // Sorts first (group -1): before the cursor, so it is not in the next pages, and nothing repeats.
      const early = await served.backend.system.data.items.create({ group: -1, label: "new" });
      try {
        const rest: Item[] = [];
        let cursor = first.nextCursor;
        while (cursor !== null) {
          const page = (await (
            await served.request(`/collections/items/records?orderBy=group&limit=10&cursor=${encodeURIComponent(cursor)}`)
          ).json()) as Page;
          rest.push(...page.items);
          cursor = page.nextCursor;
        }
        const seen = [...first.items, ...rest].map((item) => item.id);
        expect(seen.sort()).toEqual(ids);
      } finally {
        await served.backend.system.data.items.delete(early.id);
      }
    });

    test("a cursor of another orderBy, or a malformed one, is 400 INVALID_CURSOR", async () => {
      const { nextCursor } = (await (await served.request("/collections/items/records?orderBy=group&limit=2")).json()) as Page;
      const other = await read(await served.request(`/collections/items/records?orderBy=label&cursor=${encodeURIComponent(nextCursor!)}`));
      expect(other).toEqual({
        status: 400,
        type: "application/problem+json",
        body: {
          type: "about:blank",
          title: "Bad Request",
          status: 400,
          detail: expect.stringMatching(/^cursor: /),
          code: "INVALID_CURSOR",
          requestId: expect.stringMatching(REQUEST_ID),
        },
      });
      const malformed = await read(await served.request("/collections/items/records?cursor=not-a-cursor"));
      expect(malformed).toEqual({
        status: 400,
        type: "application/problem+json",
        body: {
          type: "about:blank",
          title: "Bad Request",
          status: 400,
          detail: "cursor: it is malformed",
          code: "INVALID_CURSOR",
          requestId: expect.stringMatching(REQUEST_ID),
        },
      });
    });
  },
);
