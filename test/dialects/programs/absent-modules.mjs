/**
 * Preloaded with `--import`: the packages named in CIMIENTO_ABSENT_MODULES (comma separated)
 * cannot be resolved, by `import` or by `require`, as if they were not installed.
 */
import Module, { register } from "node:module";

const absent = (process.env["CIMIENTO_ABSENT_MODULES"] ?? "").split(",").filter(Boolean);
const isAbsent = (request) => absent.some((name) => request === name || request.startsWith(`${name}/`));

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (isAbsent(request)) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: "MODULE_NOT_FOUND" });
  return resolveFilename.call(this, request, ...rest);
};

register("./absent-modules-hooks.mjs", import.meta.url, { data: absent });
