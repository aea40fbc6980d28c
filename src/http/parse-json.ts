/**
 * @internal JSON from requests (bodies, and the JSON of query parameters), parsed without
 * letting it reach a prototype.
 * @module
 */
import secureJson from "secure-json-parse";

/** Why a JSON text was refused, for the caller. */
export const PROTOTYPE_KEY_REFUSED = 'it has a "__proto__" key, or a "constructor" key holding "prototype", which is refused';

/**
 * Parses JSON text from a request. `JSON.parse` itself keeps a `"__proto__"` key as data, but
 * any later merge or assignment of such an object (`Object.assign`, a schema that passes
 * unknown keys through) would set a prototype from it: so a text with a `__proto__` key, or a
 * `constructor` key holding `prototype`, at any depth, is refused (secure-json-parse, as in
 * Fastify). Throws a `SyntaxError` whose message says what was wrong.
 */
export function parseJson(text: string): unknown {
  try {
    return secureJson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (error) {
    if (error instanceof SyntaxError && /forbidden prototype property/.test(error.message)) {
      throw new SyntaxError(PROTOTYPE_KEY_REFUSED);
    }
    throw error;
  }
}
