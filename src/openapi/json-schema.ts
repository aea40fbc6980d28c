/**
 * @internal JSON Schemas of zod schemas and of fields, for an OpenAPI 3.1 document: zod 4's
 * `z.toJSONSchema` in the draft 2020-12 dialect, with what it cannot express left open.
 * @module
 */
import { z } from "zod";
import type { FieldConfig } from "../define/field.js";
import type { JsonSchema } from "./document.js";

/** Which side of a schema: what a request sends (`input`) or what an answer holds (`output`). */
export type SchemaSide = "input" | "output";

/** The component schemas of the document being built, by name. */
export type SchemaRegistry = Map<string, JsonSchema>;

/** Rewrites every `$ref` to `#/$defs/x` as one to `#/components/schemas/<prefix>.x`. */
function rebase(value: unknown, prefix: string): unknown {
  if (Array.isArray(value)) return value.map((item) => rebase(item, prefix));
  if (typeof value !== "object" || value === null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    copy[key] = key === "$ref" && typeof member === "string" && member.startsWith("#/$defs/")
      ? `#/components/schemas/${prefix}.${member.slice("#/$defs/".length)}`
      : rebase(member, prefix);
  }
  return copy;
}

/**
 * The JSON Schema of a zod schema, for one side. What JSON Schema cannot express (a transform's
 * output, a `z.date()`, a custom check) is an open schema `{}`; the definitions zod shares
 * (recursive schemas) go to `registry` under `<prefix>.<name>`.
 */
export function zodJsonSchema(schema: z.ZodType, side: SchemaSide, registry: SchemaRegistry, prefix: string): JsonSchema {
  const converted = z.toJSONSchema(schema, { target: "draft-2020-12", io: side, unrepresentable: "any", reused: "inline", cycles: "ref" }) as Record<string, unknown>;
  const { $schema: _dialect, $defs, ...rest } = converted;
  const rebased = rebase(rest, prefix) as JsonSchema;
  if (typeof $defs === "object" && $defs !== null) {
    for (const [name, definition] of Object.entries($defs)) registry.set(`${prefix}.${name}`, rebase(definition, prefix) as JsonSchema);
  }
  // A self-reference of the whole schema is "#": name it too.
  if (JSON.stringify(rebased).includes('"$ref":"#"')) {
    const named = `${prefix}.self`;
    const fixed = JSON.parse(JSON.stringify(rebased).replaceAll('"$ref":"#"', `"$ref":"#/components/schemas/${named}"`)) as JsonSchema;
    registry.set(named, fixed);
    return { $ref: `#/components/schemas/${named}` };
  }
  return rebased;
}

/** The schema of a value of each kind, before a field's own zod schema refines it. */
function kindSchema(config: FieldConfig): JsonSchema {
  switch (config.kind) {
    case "text":
      return config.generated === undefined ? { type: "string" } : { type: "string", minLength: 1 };
    case "integer":
      return { type: "integer", minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER };
    case "number":
      return { type: "number" };
    case "boolean":
      return { type: "boolean" };
    case "datetime":
      return { type: "string", format: "date-time" };
    case "json":
      return {};
    case "enum":
      return { type: "string", enum: [...config.values!] };
    case "belongsTo":
      return { type: "string", minLength: 1, description: `The id of a record of "${config.target}".` };
  }
}

/** `schema`, which may also be `null`. */
export function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === "string" && schema.$ref === undefined) {
    const { enum: values, ...rest } = schema;
    return values === undefined ? { ...rest, type: [schema.type, "null"] } : { ...rest, type: [schema.type, "null"], enum: [...values, null] };
  }
  return { anyOf: [schema, { type: "null" }] };
}

/**
 * The schema of a field's value on one side (without `null` for an optional field): its kind,
 * refined by the field's own zod schema where JSON Schema can say it (a text's length, a
 * number's range, a JSON field's shape).
 */
export function fieldValueSchema(config: FieldConfig, side: SchemaSide, registry: SchemaRegistry, prefix: string): JsonSchema {
  const base = kindSchema(config);
  if (config.schema === undefined) return base;
  const own = zodJsonSchema(config.schema, side, registry, prefix);
  if (config.kind === "json" || Object.keys(own).length === 0) return config.kind === "json" ? own : base;
  // A datetime's zod schema checks a Date, which JSON does not carry: the kind says it all.
  if (config.kind === "datetime") return base;
  if (own.type === base.type) return { ...base, ...own };
  return { allOf: [base, own] };
}
