import type { ServerProcess } from "../test/support/server-process.ts";
import { cpuTimes } from "./cpu.ts";
import { WRONG_PER_USER, type DeadboltFixture } from "./deadbolt-setup.ts";
import { runLoad, verifications, type LoadResult, type Shot } from "./load.ts";

export const PASSWORD = "correct horse battery staple";
export const WRONG_PASSWORD = "not the right password";

export type ScenarioKey = "refWrong" | "refRight" | "poolWrong" | "poolRight" | "dbWrong" | "dbRight" | "dbLocked" | "dbOneUser" | "dbNewDevice";

export interface Scenario {
  readonly name: string;
  /** referencePool: the same reference server, with deadbolt's thread pool size. */
  readonly server: "reference" | "referencePool" | "deadbolt";
  readonly next: () => Shot;
}

export interface Measured extends LoadResult {
  /** argon2 verifications per answer (deadbolt's /metrics), over the whole phase. */
  readonly realPerAnswer: number;
  readonly dummyPerAnswer: number;
  /** Server CPU per answer over the whole phase: all threads, and the JavaScript thread. */
  readonly cpuMsPerAnswer: number;
  readonly mainMsPerAnswer: number;
}

export interface LoadShape {
  readonly concurrency: number;
  readonly warmupMs: number;
  readonly durationMs: number;
}

const json = (value: unknown): string => JSON.stringify(value);

function loginShot(email: string, password: string, expectStatus: number, deviceToken?: string): Shot {
  return { path: "/api/auth/login", body: json(deviceToken === undefined ? { email, password } : { email, password, deviceToken }), expectStatus };
}

function referenceShot(password: string, expectStatus: number): Shot {
  return { path: "/verify", body: json({ password }), expectStatus };
}

/**
 * Wrong-password shots go round WRONG_USER_STRIDE users before any gets its next one, so the
 * attempts in flight at once are on different accounts (concurrency never exceeds the stride),
 * as in credential stuffing: one account's concurrent attempts racing for its counter is
 * another cost, which the correct-password "one user" scenario measures.
 */
export const WRONG_USER_STRIDE = 256;

function wrongUserIndex(n: number): number {
  const block = WRONG_USER_STRIDE * WRONG_PER_USER;
  return Math.floor(n / block) * WRONG_USER_STRIDE + (n % block) % WRONG_USER_STRIDE;
}

/** Every request the bench sends, by scenario; the deadbolt ones walk through the fixture's users. */
export function scenarios(fixture: DeadboltFixture): Readonly<Record<ScenarioKey, Scenario>> {
  let wrong = 0;
  let right = 0;
  return {
    refWrong: { name: "reference, wrong password", server: "reference", next: () => referenceShot(WRONG_PASSWORD, 401) },
    refRight: { name: "reference, correct password", server: "reference", next: () => referenceShot(PASSWORD, 200) },
    poolWrong: { name: "reference at deadbolt's pool size, wrong password", server: "referencePool", next: () => referenceShot(WRONG_PASSWORD, 401) },
    poolRight: { name: "reference at deadbolt's pool size, correct password", server: "referencePool", next: () => referenceShot(PASSWORD, 200) },
    dbWrong: {
      name: "deadbolt, wrong password", server: "deadbolt", next: () => {
        const user = fixture.wrongUsers[wrongUserIndex(wrong++)];
        if (user === undefined) throw new Error("bench: ran out of wrong-password users; raise their number");
        return loginShot(user.email, WRONG_PASSWORD, 401);
      },
    },
    dbRight: {
      name: "deadbolt, correct password (returning client)", server: "deadbolt", next: () => {
        const i = right++ % fixture.correctUsers.length;
        return loginShot(fixture.correctUsers[i]!.email, PASSWORD, 200, fixture.deviceTokens[i]);
      },
    },
    dbNewDevice: {
      name: "deadbolt, correct password from a new device (mails a notice)", server: "deadbolt",
      next: () => loginShot(fixture.correctUsers[right++ % fixture.correctUsers.length]!.email, PASSWORD, 200),
    },
    dbLocked: {
      name: "deadbolt, locked account", server: "deadbolt",
      next: () => loginShot(fixture.lockedUser.email, PASSWORD, 401),
    },
    dbOneUser: {
      name: "deadbolt, correct password, all on one user", server: "deadbolt",
      next: () => loginShot(fixture.correctUsers[0]!.email, PASSWORD, 200),
    },
  };
}

/** One measurement: load, plus the server's CPU and (deadbolt) verification counters around it. */
export async function measure(
  scenario: Scenario, servers: Readonly<Record<Scenario["server"], ServerProcess>>, shape: LoadShape,
): Promise<Measured> {
  const { url, pid, managementUrl } = servers[scenario.server];
  const counted = scenario.server === "deadbolt";
  const counters = (): Promise<number[]> =>
    counted ? Promise.all([verifications(managementUrl!, "real"), verifications(managementUrl!, "dummy")]) : Promise.resolve([0, 0]);
  const before = await counters();
  const cpuBefore = cpuTimes(pid);
  let total = 0;
  const next = (): Shot => {
    total += 1;
    return scenario.next();
  };
  const result = await runLoad({ baseUrl: url, ...shape, next });
  const cpuAfter = cpuTimes(pid);
  const after = await counters();
  if (result.unexpected !== "") console.log(`  ! ${scenario.name}: unexpected statuses ${result.unexpected}`);
  return {
    ...result,
    realPerAnswer: counted ? (after[0]! - before[0]!) / total : Number.NaN,
    dummyPerAnswer: counted ? (after[1]! - before[1]!) / total : Number.NaN,
    cpuMsPerAnswer: cpuBefore && cpuAfter ? (cpuAfter.totalMs - cpuBefore.totalMs) / total : Number.NaN,
    mainMsPerAnswer: cpuBefore && cpuAfter ? (cpuAfter.mainMs - cpuBefore.mainMs) / total : Number.NaN,
  };
}
