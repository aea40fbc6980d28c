import { withIsoDates } from "../src/support/iso-json.js";
const mk = (i: number) => ({ id: "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", title: "A title " + i, body: "body text", author: "user-1", published: true, publishedAt: new Date(1700000000000 + i), views: i, likes: 3, tags: ["a", "b"], createdAt: new Date(1700000000000 + i * 2), updatedAt: new Date(1700000000000 + i * 3) });
const recs = Array.from({ length: 1000 }, (_, i) => mk(i));
function bench(name: string, f: (r: any) => string) {
  let n = 0; for (let k = 0; k < 200; k++) for (const r of recs) n += f(r).length;
  const t = process.hrtime.bigint();
  for (let k = 0; k < 1000; k++) for (const r of recs) n += f(r).length;
  console.log(name, Number(process.hrtime.bigint() - t) / 1e6 / 1000, "ns/op", n > 0);
}
bench("plain stringify", (r) => JSON.stringify(r));
bench("withIsoDates", (r) => JSON.stringify(withIsoDates(r)));
bench("plain stringify", (r) => JSON.stringify(r));
bench("withIsoDates", (r) => JSON.stringify(withIsoDates(r)));
const texts = recs.map((r) => ({ ...r, publishedAt: r.publishedAt.toISOString(), createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString() }));
function bench2(name: string, f: (r: any) => string) {
  let n = 0; for (let k = 0; k < 200; k++) for (const r of texts) n += f(r).length;
  const t = process.hrtime.bigint();
  for (let k = 0; k < 1000; k++) for (const r of texts) n += f(r).length;
  console.log(name, Number(process.hrtime.bigint() - t) / 1e6 / 1000, "us/op", n > 0);
}
bench2("text stringify", (r) => JSON.stringify(r));
bench2("text withIsoDates", (r) => JSON.stringify(withIsoDates(r)));
bench("withIsoDates only", (r) => (withIsoDates(r), "x"));
import { isoString } from "../src/support/iso-json.js";
function alt(value: any): any {
  const copy: any = {};
  for (const key in value) {
    const item = value[key];
    copy[key] = typeof item === "object" && item !== null && item instanceof Date ? isoString(item) : item;
  }
  return copy;
}
bench("alt copy", (r) => JSON.stringify(alt(r)));
bench("withIsoDates", (r) => JSON.stringify(withIsoDates(r)));
bench("alt only", (r) => (alt(r), "x"));
bench2("text stringify", (r) => JSON.stringify(r));
