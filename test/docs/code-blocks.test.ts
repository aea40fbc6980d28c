/**
 * Every TypeScript block of README.md and docs/*.md compiles, under `strict` and
 * `noUncheckedIndexedAccess`, against the sources. How blocks join and what a page may give a
 * block unseen (`<!-- continues -->`, `<!-- apart -->`, `<!-- one program -->`,
 * `<!-- given: ... -->`) is in code-blocks.ts.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { checkCodeBlocks, readPage, type Page } from "./code-blocks.js";

const root = join(import.meta.dirname, "..", "..");
const PAGES = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)];

// A page made up for the test, to show that it fails, and where it says it does.
const FIXTURE: Page = {
  path: "fixture/broken.md",
  text: [
    "# A page", //                                                                1
    "", //                                                                        2
    "```ts", //                                                                   3
    'import { collection, field } from "cimiento";', //                           4
    'const posts = collection("posts", { fields: { title: field.text() } }); const label = "";', // 5
    "```", //                                                                     6
    "", //                                                                        7
    "<!-- apart -->", //                                                          8
    "<!-- given: declare const count: number; -->", //                            9
    "```typescript", //                                                          10
    "const twice: string = count * 2;", //                                       11
    "```", //                                                                    12
    "", //                                                                       13
    "<!-- continues -->", //                                                     14
    '<!-- given: const title = "a title"; -->', //                               15
    "```ts", //                                                                  16
    'import { z } from "zod";', //                                               17
    "const label = posts.name + title + z.string().parse(\"!\"); // declared again, as in a notebook", // 18
    "const size: number = label.length + count;", //                             19
    "```", //                                                                    20
    "", //                                                                       21
    "```sh", //                                                                  22
    "npm test # not TypeScript: skipped", //                                     23
    "```", //                                                                    24
    "", //                                                                       25
    "<!-- continues -->", //                                                     26
    "", //                                                                       27
    "Some prose.", //                                                            28
  ].join("\n"),
};

let errors: Map<string, string[]>;

beforeAll(() => {
  errors = checkCodeBlocks([...PAGES.map(readPage), FIXTURE]);
}, 180_000); // one program per Register, and one for the rest: seconds alone, more on a busy machine

describe("the code blocks of the pages compile", () => {
  test.each(PAGES)("%s", (page) => {
    expect(errors.get(page)).toEqual([]);
  });
});

test("a block that does not compile fails, named by its page and line", () => {
  expect(errors.get(FIXTURE.path)).toEqual([
    "fixture/broken.md:11: TS2322: Type 'number' is not assignable to type 'string'.",
    // The block continues the first one (it sees posts), not the one set apart (count).
    "fixture/broken.md:19: TS2304: Cannot find name 'count'.",
    "fixture/broken.md:26: a marker that no code block follows",
  ]);
});
