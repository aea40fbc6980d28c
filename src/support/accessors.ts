/**
 * @internal Classes whose instances stand for object literals (a scope, the context of an action
 * or a hook): their getters listed, as a literal's members are, and their prototype closed.
 * @module
 */

/**
 * Makes the named getters of a class's prototype enumerable (`for...in` lists them, as it lists
 * an object literal's members), then freezes the prototype.
 */
export function publishAccessors(prototype: object, names: readonly string[]): void {
  for (const name of names) {
    const descriptor = Object.getOwnPropertyDescriptor(prototype, name);
    if (descriptor?.get === undefined) throw new TypeError(`${name} is not a getter of this prototype.`);
    Object.defineProperty(prototype, name, { ...descriptor, enumerable: true });
  }
  Object.freeze(prototype);
}
