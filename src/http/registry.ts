/**
 * @internal The Hono app behind each backend, for the adapters that mount it natively.
 * @module
 */
import type { Hono } from "hono";

const apps = new WeakMap<object, Hono<any>>();

/** Remembers the app of a backend. */
export function registerApp(backend: object, app: Hono<any>): void {
  apps.set(backend, app);
}

/** The app of a backend made by `createBackend`. */
export function appOf(backend: object): Hono<any> {
  const app = apps.get(backend);
  if (app === undefined) throw new TypeError("Not a backend made by createBackend().");
  return app;
}
