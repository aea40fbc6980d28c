/**
 * @internal Zod's issues as cimiento's field issues, and the `VALIDATION_FAILED` error.
 * @module
 */
import type { z } from "zod";
import { apiError, type ApiError, type FieldIssue } from "./api-error.js";

/** Each zod issue as a field issue; an unknown key is an issue of its own, named. */
export function issuesOf(error: z.ZodError, prefix: readonly (string | number)[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    const path = [...prefix, ...(issue.path as (string | number)[])];
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        issues.push({ path: [...path, key], code: "unrecognized_keys", message: `Unknown field "${key}"` });
      }
    } else {
      issues.push({ path, code: issue.code, message: issue.message });
    }
  }
  return issues;
}

/** `VALIDATION_FAILED` listing every issue after `heading`, e.g. "Invalid posts input". */
export function validationError(heading: string, issues: readonly FieldIssue[]): ApiError {
  const summary = issues.map((issue) => `${issue.path.join(".") || "(input)"}: ${issue.message}`).join("; ");
  return apiError("VALIDATION_FAILED", `${heading}: ${summary}`, { issues });
}
