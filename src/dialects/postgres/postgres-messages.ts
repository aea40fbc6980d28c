/**
 * @internal Messages between the processes on one PostgreSQL database and schema: `pg_notify`
 * through the pool, `LISTEN` on a client of its own that reconnects.
 * @module
 */
import type pg from "pg";
import { sql, type Kysely } from "kysely";
import type { DialectMessages } from "../dialect.js";

const MAX_PAUSE = 5_000;

/** The channel of a schema: `cimiento:<schema>`, hashed when longer than a channel name may be (63 bytes). */
function channelOf(schema: string): string {
  const channel = `cimiento:${schema}`;
  if (Buffer.byteLength(channel) <= 63) return channel;
  let hash = 0;
  for (let i = 0; i < channel.length; i++) hash = (Math.imul(hash, 31) + channel.charCodeAt(i)) | 0;
  return `cimiento:${Buffer.from(schema).subarray(0, 40).toString("latin1").replace(/[^\x20-\x7e]/g, "_")}:${(hash >>> 0).toString(36)}`;
}

/**
 * @internal The messages of a database: `kysely` sends, `connect()` makes the listening client
 * (with the pool's settings).
 */
export function postgresMessages(kysely: Kysely<any>, connect: () => pg.Client): DialectMessages {
  let channel: Promise<string> | undefined;
  const channelName = () =>
    (channel ??= sql<{ name: string | null }>`select current_schema() as name`
      .execute(kysely)
      .then((result) => channelOf(result.rows[0]?.name ?? "public")));
  return {
    async send(message) {
      await sql`select pg_notify(${await channelName()}, ${message})`.execute(kysely);
    },
    listen({ onMessage, onGap, onError }) {
      let stopped = false;
      let client: pg.Client | undefined;
      let pause = 100;
      let timer: NodeJS.Timeout | undefined;
      const retry = () => {
        if (stopped || timer !== undefined) return;
        timer = setTimeout(() => {
          timer = undefined;
          void open();
        }, pause);
        timer.unref();
        pause = Math.min(pause * 2, MAX_PAUSE);
      };
      const open = async () => {
        const current = connect();
        client = current;
        let broken = false;
        const lost = (error?: unknown) => {
          if (broken) return;
          broken = true;
          if (error !== undefined && !stopped) onError(error);
          current.removeAllListeners("notification");
          void current.end().catch(() => {});
          retry();
        };
        current.on("error", lost);
        current.on("end", () => lost());
        current.on("notification", (notification) => {
          if (notification.payload !== undefined) onMessage(notification.payload);
        });
        try {
          const name = await channelName();
          await current.connect();
          await current.query(`listen "${name.replaceAll('"', '""')}"`);
          if (stopped) {
            await current.end();
            return;
          }
          pause = 100;
          // What was sent before this connection listened (the first one too) was not heard.
          onGap();
        } catch (error) {
          lost(error);
        }
      };
      void open();
      return async () => {
        stopped = true;
        clearTimeout(timer);
        const current = client;
        client = undefined;
        if (current !== undefined) {
          current.removeAllListeners();
          current.on("error", () => {});
          await current.end().catch(() => {});
        }
      };
    },
  };
}
