/**
 * SPEC "Library": `attempt` reserves a verification slot exactly as the service does. Three app
 * processes share one PostgreSQL database; 300 concurrent wrong attempts on one account run
 * the app's `verify` exactly `threshold` times in all, and every other attempt is refused. The
 * same holds per counter (SPEC "Trusted devices" 4): 300 with one trusted device's token lock
 * that device after exactly `threshold` verifications, and not the account.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLockout } from "../../src/index.ts";
import { createTestDatabase, type TestDatabase } from "../support/databases.ts";

const CHILD = fileURLToPath(new URL("./attempt-child.ts", import.meta.url));
const PROCESSES = 3;
const PER_PROCESS = 100;
const THRESHOLD = 5;

interface Child {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
}

function start(url: string, account: string, deviceToken = ""): Child {
  const child = spawn(process.execPath, [CHILD], {
    env: {
      ...process.env, LOCKOUT_DATABASE_URL: url, THRESHOLD: String(THRESHOLD), ATTEMPTS: String(PER_PROCESS), ACCOUNT: account,
      DEVICE_TOKEN: deviceToken,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => process.stderr.write(`attempt-child: ${text}`));
  return { process: child, lines: createInterface({ input: child.stdout })[Symbol.asyncIterator]() };
}

async function nextLine(child: Child): Promise<string> {
  const next = await child.lines.next();
  if (next.done) throw new Error("attempt-child exited early");
  return next.value;
}

interface Burst {
  readonly verifications: number;
  count(outcome: string): number;
}

/** Starts the processes, lets them all go at once, and sums what they report. */
async function burst(children: readonly Child[]): Promise<Burst> {
  for (const child of children) expect(await nextLine(child)).toBe("ready");
  for (const child of children) child.process.stdin.write("go\n");
  const results = await Promise.all(children.map(async (child) =>
    JSON.parse(await nextLine(child)) as { verifications: number; tally: Record<string, number> }));
  return {
    verifications: results.reduce((sum, r) => sum + r.verifications, 0),
    count: (outcome) => results.reduce((sum, r) => sum + (r.tally[outcome] ?? 0), 0),
  };
}

describe("createLockout across three processes (postgres)", () => {
  let database: TestDatabase;
  const children: Child[] = [];

  beforeAll(async () => {
    database = await createTestDatabase("postgres");
  });

  afterAll(async () => {
    for (const child of children) child.process.kill();
    await database.drop();
  });

  it(`300 concurrent wrong attempts run verify exactly ${THRESHOLD} times`, async () => {
    const account = "user-42";
    const started = Array.from({ length: PROCESSES }, () => start(database.url, account));
    children.push(...started);
    const { verifications, count } = await burst(started);
    expect(verifications).toBe(THRESHOLD);
    expect(count("failed")).toBe(THRESHOLD);
    expect(count("refused")).toBe(PROCESSES * PER_PROCESS - THRESHOLD);
    expect(count("verified")).toBe(0);

    const lockout = createLockout({ databaseUrl: database.url, policy: { threshold: THRESHOLD } });
    try {
      expect(await lockout.status(account)).toMatchObject({ status: "locked", failedAttempts: THRESHOLD, lockoutCount: 1 });
      const events = await lockout.events({ account, type: "account.locked" });
      expect(events).toHaveLength(1);
    } finally {
      await lockout.close();
    }
  }, 180_000);

  it(`300 concurrent wrong attempts with one trusted device's token run verify exactly ${THRESHOLD} times and lock the device only`, async () => {
    const account = "user-43";
    const lockout = createLockout({ databaseUrl: database.url, policy: { threshold: THRESHOLD } });
    try {
      let token = "";
      expect(await lockout.attempt({ account, verify: () => true, onDeviceToken: (handed) => { token = handed; } })).toBe("verified");
      const started = Array.from({ length: PROCESSES }, () => start(database.url, account, token));
      children.push(...started);
      const { verifications, count } = await burst(started);
      expect(verifications).toBe(THRESHOLD);
      expect(count("failed")).toBe(THRESHOLD);
      expect(count("refused")).toBe(PROCESSES * PER_PROCESS - THRESHOLD);

      expect(await lockout.status(account), "the account is not locked").toMatchObject({ status: "active", failedAttempts: 0, lockoutCount: 0 });
      expect(await lockout.events({ account, type: "device.locked" })).toHaveLength(1);
      expect(await lockout.events({ account, type: "account.locked" })).toEqual([]);
      expect(await lockout.attempt({ account, verify: () => true, client: { deviceToken: token } }), "the device is").toBe("refused");
      expect(await lockout.attempt({ account, verify: () => true })).toBe("verified");
    } finally {
      await lockout.close();
    }
  }, 180_000);
});
