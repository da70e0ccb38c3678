import type { FastifyInstance } from "fastify";
import pino from "pino";
import { createUser, type AuthContext, type BreachCheck, type Hasher } from "../../src/auth/index.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { buildApp } from "../../src/http/app.ts";
import { buildManagementApp } from "../../src/http/management.ts";
import { createMetrics, type Metrics } from "../../src/http/metrics.ts";
import { createThrottle, type Throttle } from "../../src/http/throttle.ts";
import type { TrustedDeviceCheck } from "../../src/http/throttle-gate.ts";
import type { Role } from "../../src/lockout/index.ts";
import { createRuntime } from "../../src/runtime.ts";
import type { UserRow } from "../../src/store/index.ts";
import { createTestDatabase, TEST_SECRET_KEY, type TestDatabase } from "./databases.ts";

/** A clock the test moves by hand: locks expire without sleeping. */
export interface TestClock {
  now(): number;
  advance(ms: number): void;
  set(ms: number): void;
}

export function createClock(start = Date.parse("2026-11-22T12:00:00Z")): TestClock {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => { current += ms; },
    set: (ms) => { current = ms; },
  };
}

export interface TestApp {
  readonly app: FastifyInstance;
  /** The management listener's app: /metrics (never on the public `app`), /healthz, /readyz. */
  readonly management: FastifyInstance;
  readonly auth: AuthContext;
  readonly config: Config;
  readonly clock: TestClock;
  readonly metrics: Metrics;
  readonly database: TestDatabase;
  readonly throttle: Throttle;
  /** Creates a user directly (password hashed with the real argon2id). */
  createUser(email: string, password: string, role?: Role): Promise<UserRow>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** DEADBOLT_* variables on top of the defaults. */
  readonly env?: Record<string, string>;
  /** Reuse a database (for example one shared by two apps); it is not dropped on close. */
  readonly database?: TestDatabase;
  /** Which device tokens count as trusted by which user (for the throttle's exemption). */
  readonly trustedDevice?: TrustedDeviceCheck;
  /** Replaces the breached-password check DEADBOLT_BREACHED_PASSWORDS selects. */
  readonly breached?: BreachCheck | null;
  /** Replaces the argon2 hasher (for example to hold its queue full). */
  readonly hasher?: Hasher;
  /** Receives the app's log lines (JSON objects); silent otherwise. */
  readonly logLines?: (line: Record<string, unknown>) => void;
}

/** A real app over a fresh real database of the dialect, with a controllable clock. */
export async function createTestApp(dialect: "sqlite" | "postgres", options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.database ?? await createTestDatabase(dialect);
  const config = loadConfig({
    DEADBOLT_DATABASE_URL: database.url,
    DEADBOLT_SECRET_KEY: TEST_SECRET_KEY,
    DEADBOLT_LOG_LEVEL: "silent",
    DEADBOLT_THROTTLE_PER_MINUTE: "0",
    ...options.env,
  });
  const clock = createClock();
  const log = options.logLines === undefined
    ? pino({ level: process.env.DEADBOLT_TEST_LOG ?? "silent" })
    : pino({ level: "info" }, { write: (line: string) => options.logLines?.(JSON.parse(line) as Record<string, unknown>) });
  const metrics = createMetrics();
  const runtime = await createRuntime(config, { log, metrics, now: clock.now, breached: options.breached, hasher: options.hasher });
  const throttle = createThrottle({ perMinute: config.throttlePerMinute, redisUrl: config.redisUrl, now: clock.now });
  const app = await buildApp(config, { auth: runtime.auth, metrics, throttle, trustedDevice: options.trustedDevice });
  const management = await buildManagementApp({ database: runtime.auth.database, metrics });
  return {
    app,
    management,
    auth: runtime.auth,
    config,
    clock,
    metrics,
    database,
    throttle,
    async createUser(email, password, role = "user") {
      const result = await createUser(runtime.auth, { email, password, role }, { by: "cli", client: { ip: null, userAgent: null } });
      if (!result.ok) throw new Error(`createUser failed: ${result.error}: ${result.message}`);
      return result.user;
    },
    async close() {
      await app.close();
      await management.close();
      await throttle.close();
      await runtime.close();
      if (!options.database) await database.drop();
    },
  };
}

/** POST /api/auth/login through inject. */
export function postLogin(app: FastifyInstance, email: string, password: string, headers: Record<string, string> = {}) {
  return app.inject({ method: "POST", url: "/api/auth/login", payload: { email, password }, headers });
}
