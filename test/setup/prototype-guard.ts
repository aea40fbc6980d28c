/**
 * After every test of the suite: no input reached a prototype. A request that set a key on
 * `Object.prototype` (or `Array.prototype`) would change every object of the process.
 */
import { afterEach, expect } from "vitest";

afterEach(() => {
  expect(Object.keys(Object.prototype), "Object.prototype gained keys").toEqual([]);
  expect(Object.keys(Array.prototype), "Array.prototype gained keys").toEqual([]);
});
