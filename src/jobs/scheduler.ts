/**
 * @internal Turns the ticks of schedules into jobs, once per tick across instances.
 * @module
 */
import type { Cron } from "croner";
import type { Logger } from "../define/logger.js";
import type { JobEvent } from "./events.js";

/** A schedule whose job is known by name and whose input was checked. */
export interface ResolvedSchedule {
  readonly name: string;
  readonly jobName: string;
  readonly input: unknown;
  readonly pattern: Cron;
}

type EnqueueTick = (schedule: ResolvedSchedule, tick: number) => Promise<{ id: string; created: boolean }>;

// A clock that jumped far (or a long pause) makes up at most this many ticks of one schedule.
const MAX_CATCH_UP = 1000;

/** The schedules of one backend, from a starting time on. */
export class Scheduler {
  readonly #schedules: readonly ResolvedSchedule[];
  readonly #next = new Map<string, number | null>();
  readonly #enqueue: EnqueueTick;
  readonly #emit: (event: JobEvent) => void;
  readonly #logger: Logger;

  constructor(schedules: readonly ResolvedSchedule[], from: number, enqueue: EnqueueTick, emit: (event: JobEvent) => void, logger: Logger) {
    this.#schedules = schedules;
    this.#enqueue = enqueue;
    this.#emit = emit;
    this.#logger = logger;
    for (const schedule of schedules) this.#next.set(schedule.name, nextAfter(schedule.pattern, from));
  }

  /** The time of the earliest tick to come, or `null`. */
  nextTick(): number | null {
    let next: number | null = null;
    for (const value of this.#next.values()) if (value !== null && (next === null || value < next)) next = value;
    return next;
  }

  /** Enqueues every tick up to `now` not enqueued yet by this scheduler. */
  async tick(now: number): Promise<void> {
    for (const schedule of this.#schedules) {
      let next = this.#next.get(schedule.name) ?? null;
      let made = 0;
      for (; next !== null && next <= now && made < MAX_CATCH_UP; made++) {
        try {
          const { id, created } = await this.#enqueue(schedule, next);
          this.#emit({ type: "scheduled", schedule: schedule.name, tick: new Date(next), id, created });
        } catch (error) {
          // Kept as due: the next tick() tries again.
          this.#logger.error(`The schedule "${schedule.name}" could not enqueue its job.`, { error, tick: new Date(next) });
          return;
        }
        next = nextAfter(schedule.pattern, next);
        this.#next.set(schedule.name, next);
      }
      if (made === MAX_CATCH_UP && next !== null && next <= now) {
        // Too far behind: skip to the present rather than flood the queue.
        this.#next.set(schedule.name, nextAfter(schedule.pattern, now));
      }
    }
  }
}

function nextAfter(pattern: Cron, time: number): number | null {
  return pattern.nextRun(new Date(time))?.getTime() ?? null;
}
