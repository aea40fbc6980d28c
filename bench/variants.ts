/**
 * The servers each HTTP scenario runs through, and what a server process is told.
 * @module
 */

/** The ways a request is served. */
export type Variant = "node-raw" | "node-cimiento" | "hono-raw" | "hono-cimiento" | "express-raw" | "express-cimiento";

/** What a server process serves: its variant, the scenario, the database and where it is. */
export interface ServerSpec {
  readonly variant: Variant;
  /** The key of the one scenario it serves. */
  readonly scenario: string;
  readonly dialect: "sqlite" | "postgres";
  /** The SQLite file, or the PostgreSQL connection string. */
  readonly target: string;
}

/** Every variant, in the order they run, with its label and the baseline of its ratio. */
export const VARIANTS: readonly { readonly variant: Variant; readonly label: string; readonly baseline?: Variant }[] = [
  { variant: "node-raw", label: "node:http + raw statements (the limit)" },
  { variant: "node-cimiento", label: "cimiento on node:http (toNodeHandler)", baseline: "node-raw" },
  { variant: "hono-raw", label: "Hono + raw statements" },
  { variant: "hono-cimiento", label: "cimiento in Hono (toHono)", baseline: "hono-raw" },
  { variant: "express-raw", label: "Express + raw statements" },
  { variant: "express-cimiento", label: "cimiento in Express (toNodeHandler)", baseline: "express-raw" },
];
