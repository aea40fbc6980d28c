/**
 * @internal The bodies of auth's requests, checked with zod before a flow runs: over HTTP by the
 * route that declares them, in-process by the method that takes them.
 * @module
 */
import { z } from "zod";
import { issuesOf, validationError } from "../errors/validation.js";
import { normalizeEmail } from "../define/users.js";

/**
 * A body checked by `schema`: its output, or a 422 `VALIDATION_FAILED` with every issue, under
 * `heading` ("Invalid sign-in").
 */
export function checkBody<S extends z.ZodType>(schema: S, heading: string, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw validationError(heading, issuesOf(parsed.error, []));
  return parsed.data;
}

/** An e-mail address as a body member, normalised as the `users` collection stores it. */
export const emailMember = z.unknown().transform((value, ctx) => {
  const email = normalizeEmail(value);
  if (email === null) {
    const input = typeof value === "string" ? value : undefined;
    ctx.issues.push({ code: "invalid_format", format: "email", input, message: "An e-mail address is expected" });
    return z.NEVER;
  }
  return email;
});

/**
 * A one-use token as a body member. Anything but a string is taken as no token, refused by the
 * flow as an unknown token is (400 `INVALID_TOKEN`), after the rest of the body is checked.
 */
export const tokenMember = z.string().optional().catch(undefined);
