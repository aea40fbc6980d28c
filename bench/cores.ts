/**
 * Where the benchmark's processes run: with two cores or more (and `taskset`), each server on
 * core 1 and the load generator (this process) on core 0, so that neither takes the other's core
 * and a fast baseline is not held back by its own load. `BENCH_PIN=0` leaves them unpinned.
 * @module
 */
import { spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";

/** The cores of the server and of the load generator, or `undefined` when unpinned. */
export interface Pinning {
  readonly server: number;
  readonly load: number;
}

function canPin(): boolean {
  if (process.env["BENCH_PIN"] === "0" || availableParallelism() < 2) return false;
  return spawnSync("taskset", ["-p", String(process.pid)], { stdio: "ignore" }).status === 0;
}

/** Pins `pid` to `core`; throws when `taskset` refuses. */
export function pin(pid: number, core: number): void {
  const result = spawnSync("taskset", ["-pc", String(core), String(pid)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`taskset could not pin process ${pid} to core ${core}: ${result.stderr.trim()}`);
}

/** Decides the pinning once, and pins this process (the load generator) to its core. */
export const pinning: Pinning | undefined = canPin() ? { server: 1, load: 0 } : undefined;
if (pinning !== undefined) pin(process.pid, pinning.load);

/** The pinning in words, for reports. */
export function describePinning(): string {
  return pinning === undefined ? "server and load generator unpinned" : `server pinned to core ${pinning.server}, load generator to core ${pinning.load}`;
}
