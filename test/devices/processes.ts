/**
 * Several deadbolt server processes on one database, for the trusted-device race and attack
 * suites: start them, sign in over real HTTP as a browser (device cookie) or an API client
 * (deviceToken), and read their /metrics and the events they wrote.
 */
import pino from "pino";
import { createUser } from "../../src/auth/index.ts";
import { loadConfig } from "../../src/config.ts";
import { createRuntime } from "../../src/runtime.ts";
import { openDatabase, type Database } from "../../src/store/index.ts";
import { createTestDatabase, TEST_SECRET_KEY, type TestDatabase } from "../support/databases.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";

export const DEVICE_COOKIE = "deadbolt_device";
/** Three processes starting at once on the shared 2-core machine took 35 s; a burst, as long again. */
export const SLOW_MACHINE_TIMEOUT_MS = 180_000;

export interface Cluster {
  readonly servers: readonly ServerProcess[];
  readonly database: Database;
  close(): Promise<void>;
}

/**
 * Migrates a fresh database of the dialect, creates `users` (all with `password`), then starts
 * `processes` servers on it with `env` on top of a throttle-free, quiet base.
 */
export async function startCluster(
  dialect: "sqlite" | "postgres",
  options: { processes: number; users: readonly string[]; password: string; env: Record<string, string> },
): Promise<Cluster> {
  const testDatabase: TestDatabase = await createTestDatabase(dialect);
  const env = {
    DEADBOLT_DATABASE_URL: testDatabase.url,
    DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
    DEADBOLT_THROTTLE_PER_MINUTE: "0",
    DEADBOLT_LOG_LEVEL: "warn",
    ...options.env,
  };
  // Migrate and create the users before any server starts.
  const runtime = await createRuntime(loadConfig(env), { log: pino({ level: "silent" }) });
  try {
    for (const email of options.users) {
      const created = await createUser(runtime.auth, { email, password: options.password, role: "user" },
        { by: "cli", client: { ip: null, userAgent: null } });
      if (!created.ok) throw new Error(`createUser ${email}: ${created.error}`);
    }
  } finally {
    await runtime.close();
  }
  const started = await Promise.allSettled(Array.from({ length: options.processes }, () => startServerProcess({ env, management: true })));
  const servers = started.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  const database = openDatabase(testDatabase.url);
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
    await database.close();
    await testDatabase.drop();
  };
  const failed = started.find((result) => result.status === "rejected");
  if (failed) {
    await close();
    throw failed.reason;
  }
  return { servers, database, close };
}

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The deadbolt_device cookie the answer set, if any. */
  readonly deviceCookie: string | null;
}

export function deviceCookieOf(response: Response): string | null {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${DEVICE_COOKIE}=`));
  return line === undefined ? null : line.split(";")[0]!.slice(DEVICE_COOKIE.length + 1);
}

/** POST /api/auth/login as a browser holding `device.cookie`, or an API client sending `device.deviceToken`, or neither. */
export async function postLogin(
  baseUrl: string, email: string, password: string, device: { cookie?: string | null; deviceToken?: string | null } = {},
): Promise<Answer> {
  const payload: Record<string, string> = { email, password };
  if (device.deviceToken) payload.deviceToken = device.deviceToken;
  // Global fetch keeps connections alive (undici's default agent).
  const response = await fetch(`${baseUrl}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(device.cookie ? { cookie: `${DEVICE_COOKIE}=${device.cookie}` } : {}) },
    body: JSON.stringify(payload),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, deviceCookie: deviceCookieOf(response) };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** One Prometheus series (`name{labels}` exactly as exposed) summed over the processes' /metrics. */
export async function metricTotal(servers: readonly ServerProcess[], series: string): Promise<number> {
  const pattern = new RegExp(`^${escapeRegExp(series)} (\\S+)$`, "m");
  const values = await Promise.all(servers.map(async (server) => {
    const match = pattern.exec(await (await fetch(`${server.managementUrl!}/metrics`)).text());
    // prom-client omits a label set that was never incremented.
    return match ? Number(match[1]) : 0;
  }));
  return values.reduce((sum, n) => sum + n, 0);
}

/** Real argon2 verifications against stored hashes, over every process. */
export const realVerifications = (servers: readonly ServerProcess[]): Promise<number> =>
  metricTotal(servers, 'deadbolt_password_verifications_total{kind="real"}');

/**
 * "type" or "type:reason" → how many `login.*`, `account.*` and `device.*` events the user has;
 * `login.failed` also says whether the attempt came from a trusted device ("…:device").
 */
export async function lockoutEvents(database: Database, email: string): Promise<Record<string, number>> {
  const rows = await database.db.selectFrom("events").select(["type", "details"]).where("email", "=", email)
    .where((eb) => eb.or([eb("type", "like", "login.%"), eb("type", "like", "account.%"), eb("type", "like", "device.%")])).execute();
  const tally: Record<string, number> = {};
  for (const row of rows) {
    const details = JSON.parse(row.details) as { reason?: unknown; trustedDevice?: unknown };
    let key = typeof details.reason === "string" ? `${row.type}:${details.reason}` : row.type;
    if (row.type === "login.failed" && details.trustedDevice === true) key += ":device";
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

export function tallyOf<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const tally: Record<string, number> = {};
  for (const item of items) tally[key(item)] = (tally[key(item)] ?? 0) + 1;
  return tally;
}

/** Lines a process logged at error level or above (pino 50/60). */
export function errorLines(servers: readonly ServerProcess[]): string[] {
  return servers.flatMap((server) => server.output().split("\n").filter((line) => /"level":(50|60)/.test(line)));
}
