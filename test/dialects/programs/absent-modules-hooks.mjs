/** The resolve hook of absent-modules.mjs, for `import`. */
let absent = [];

export function initialize(data) {
  absent = data;
}

export async function resolve(specifier, context, next) {
  if (absent.some((name) => specifier === name || specifier.startsWith(`${name}/`))) {
    throw Object.assign(new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`), {
      code: "ERR_MODULE_NOT_FOUND",
    });
  }
  return next(specifier, context);
}
