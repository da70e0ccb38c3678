/**
 * The scale bench's HTTP half: a real server process on the seeded database, an admin
 * signed in, and the console's requests timed as the browser makes them (p95 of 15); then a
 * login's latency alone and while a retention prune of half a day of events runs beside it.
 */
import { hash } from "@node-rs/argon2";
import { ARGON2_OPTIONS, createUser } from "../src/auth/index.ts";
import { loadConfig } from "../src/config.ts";
import { pruneExpired, type Database } from "../src/store/index.ts";
import { TEST_SECRET_KEY } from "../test/support/databases.ts";
import { startServerProcess, type ServerProcess } from "../test/support/server-process.ts";
import { BATCH_PAUSE_MS } from "../src/pruner.ts";
import { benchRuntime } from "./seed.ts";
import { percentile } from "./stats.ts";
import { setTimeout as sleep } from "node:timers/promises";

const ADMIN = "bench-admin@example.com";
const PASSWORD = "correct horse battery staple";
const DAY = 86_400_000;

async function p95(run: () => Promise<unknown>, times = 15): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const started = performance.now();
    await run();
    samples.push(performance.now() - started);
  }
  return percentile(samples, 95);
}

function env(url: string): Record<string, string> {
  // Retention off in the server: the bench prunes itself, when it means to.
  return {
    DEADBOLT_DATABASE_URL: url, DEADBOLT_SECRET_KEY: TEST_SECRET_KEY, DEADBOLT_LOG_LEVEL: "warn",
    DEADBOLT_THROTTLE_PER_MINUTE: "0", DEADBOLT_EVENT_RETENTION: "0", DEADBOLT_NOTIFY_NEW_DEVICE: "false",
  };
}

async function signIn(server: ServerProcess): Promise<string> {
  const response = await fetch(`${server.url}/api/auth/login`, {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ email: ADMIN, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`bench: admin sign-in answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

async function getOk(server: ServerProcess, token: string, path: string): Promise<string> {
  const response = await fetch(server.url + path, { headers: { authorization: `Bearer ${token}`, cookie: `deadbolt_session=${token}` } });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`bench: GET ${path} answered ${response.status}: ${body.slice(0, 200)}`);
  return body;
}

/** Sequential sign-ins of the admin (each one argon2 verification) for `count` attempts. */
async function logins(server: ServerProcess, count: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await signIn(server);
    samples.push(performance.now() - started);
  }
  return samples;
}

export async function httpTimings(database: Database, url: string, now: number): Promise<Record<string, number>> {
  const runtime = await benchRuntime(loadConfig(env(url)), await hash(PASSWORD, ARGON2_OPTIONS));
  try {
    const created = await createUser(runtime.auth, { email: ADMIN, password: PASSWORD, role: "admin" }, { by: "cli", client: { ip: null, userAgent: null } });
    if (!created.ok) throw new Error(`bench: creating the admin: ${created.error}`);
  } finally {
    await runtime.close();
  }
  const server = await startServerProcess({ env: env(url) });
  try {
    const token = await signIn(server);
    const get = (path: string) => () => getOk(server, token, path);
    const first = JSON.parse(await getOk(server, token, "/api/admin/users?status=locked&limit=50")) as { nextCursor: string | null };
    const timings: Record<string, number> = {
      "admin console /admin": await p95(get("/admin")),
      "GET /api/admin/stats?window=24h": await p95(get("/api/admin/stats?window=24h")),
      "users ?status=locked&limit=50": await p95(get("/api/admin/users?status=locked&limit=50")),
      // At 1k users the first page holds every locked user: then its "second page" is the first again.
      "same, second page": await p95(get(`/api/admin/users?status=locked&limit=50${first.nextCursor === null ? "" : `&cursor=${first.nextCursor}`}`)),
      "e-mail search q=user12": await p95(get("/api/admin/users?q=user12&limit=50")),
      "one user's events": await p95(get("/api/admin/events?userId=u7&limit=50")),
      "latest events": await p95(get("/api/admin/events?limit=50")),
    };
    const idle = await logins(server, 20);
    // Half a day of events (and their counters) pruned in batches beside the sign-ins.
    let pruning = true;
    const prunedMs = performance.now();
    // The server's pruner pauses between batches the same way (src/pruner.ts); here the pause
    // also lets this process's own sign-in requests out (better-sqlite3 is synchronous).
    const prune = pruneExpired(database.db, { now: now + DAY / 2, retentionMs: DAY, pause: () => sleep(BATCH_PAUSE_MS) })
      .finally(() => { pruning = false; });
    const during: number[] = [];
    while (pruning) during.push(...await logins(server, 1));
    await prune;
    timings["prune half a day of events (s)"] = (performance.now() - prunedMs) / 1000;
    timings["login p50, idle"] = percentile(idle, 50);
    timings["login p99, idle"] = percentile(idle, 99);
    timings["login p50, while pruning"] = percentile(during, 50);
    timings["login p99, while pruning"] = percentile(during, 99);
    timings["logins during the prune"] = during.length;
    return timings;
  } catch (error) {
    console.error(`bench: the server's last output:\n${server.output().slice(-3000)}`);
    throw error;
  } finally {
    await server.stop();
  }
}
