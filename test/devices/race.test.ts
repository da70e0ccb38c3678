/**
 * SPEC "Trusted devices" 4 (rule 8 per counter), end to end: three server processes share one
 * database. 300 concurrent wrong passwords presenting one trusted device run exactly
 * `threshold` real verifications on that device's counter, lock that device and not the
 * account; the same burst without a device runs exactly `threshold` on the account's counter
 * and locks the account for untrusted clients only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_LOGIN_FAILURE_MESSAGE } from "../../src/config.ts";
import { findUserByEmail } from "../../src/store/index.ts";
import {
  errorLines, lockoutEvents, postLogin, realVerifications, SLOW_MACHINE_TIMEOUT_MS, startCluster, tallyOf, type Cluster,
} from "./processes.ts";

const PROCESSES = 3;
const THRESHOLD = 5;
const BURST = 300;
const PASSWORD = "correct horse battery staple";
/** Attacked from its trusted device. */
const DEVICE_USER = "device@example.com";
/** Attacked by clients without a device; it has a trusted browser of its own. */
const PLAIN_USER = "plain@example.com";
const GENERIC_401 = `401 ${JSON.stringify({ error: "invalid_credentials", message: DEFAULT_LOGIN_FAILURE_MESSAGE })}`;

/** The burst's events: what the user has now minus what it had before. */
function delta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(after)) if (n - (before[key] ?? 0) !== 0) out[key] = n - (before[key] ?? 0);
  return out;
}

describe.each(["postgres", "sqlite"] as const)("a burst on one trusted device, three processes on one %s database", (dialect) => {
  let cluster: Cluster;
  const url = (i: number): string => cluster.servers[i % PROCESSES]!.url;

  beforeAll(async () => {
    cluster = await startCluster(dialect, {
      processes: PROCESSES, users: [DEVICE_USER, PLAIN_USER], password: PASSWORD, env: { DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD) },
    });
  }, SLOW_MACHINE_TIMEOUT_MS);

  afterAll(async () => cluster?.close());

  it(`${BURST} concurrent wrong passwords with one trusted device: exactly ${THRESHOLD} verifications, the device locked, the account not`, async () => {
    const first = await postLogin(url(0), DEVICE_USER, PASSWORD);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const deviceToken = first.body.deviceToken as string;
    const before = await realVerifications(cluster.servers);
    const eventsBefore = await lockoutEvents(cluster.database, DEVICE_USER);

    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) =>
      postLogin(url(i), DEVICE_USER, `wrong password ${i}`, { deviceToken })));

    expect(tallyOf(answers, (a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual({ [GENERIC_401]: BURST });
    expect((await realVerifications(cluster.servers)) - before).toBe(THRESHOLD);
    expect(delta(await lockoutEvents(cluster.database, DEVICE_USER), eventsBefore)).toEqual({
      "login.failed:wrong_password:device": THRESHOLD,
      "device.locked": 1,
      // Every surplus attempt waited for a slot of the device, then saw its lock; none gave up.
      "login.failed:locked:device": BURST - THRESHOLD,
    });
    const user = await findUserByEmail(cluster.database.db, DEVICE_USER);
    expect(user).toMatchObject({ locked_until: null, password_failures: 0, lockout_count: 0 });
    const device = await cluster.database.db.selectFrom("devices").selectAll().where("user_id", "=", user!.id).executeTakeFirstOrThrow();
    expect(device.password_failures).toBe(THRESHOLD);
    expect(device.locked_until).not.toBeNull();

    // The locked device is refused even with the right password; the account itself is not locked.
    expect((await postLogin(url(1), DEVICE_USER, PASSWORD, { deviceToken })).status).toBe(401);
    expect((await postLogin(url(2), DEVICE_USER, PASSWORD)).status).toBe(200);
  }, SLOW_MACHINE_TIMEOUT_MS);

  it(`the same burst without a device: exactly ${THRESHOLD} verifications, the account locked for untrusted clients only`, async () => {
    const browser = await postLogin(url(0), PLAIN_USER, PASSWORD);
    expect(browser.status, JSON.stringify(browser.body)).toBe(200);
    const before = await realVerifications(cluster.servers);
    const eventsBefore = await lockoutEvents(cluster.database, PLAIN_USER);

    const answers = await Promise.all(Array.from({ length: BURST }, (_, i) => postLogin(url(i), PLAIN_USER, `wrong password ${i}`)));

    expect(tallyOf(answers, (a) => `${a.status} ${JSON.stringify(a.body)}`)).toEqual({ [GENERIC_401]: BURST });
    expect((await realVerifications(cluster.servers)) - before).toBe(THRESHOLD);
    expect(delta(await lockoutEvents(cluster.database, PLAIN_USER), eventsBefore)).toEqual({
      "login.failed:wrong_password": THRESHOLD,
      "account.locked": 1,
      "login.failed:locked": BURST - THRESHOLD,
    });
    const user = await findUserByEmail(cluster.database.db, PLAIN_USER);
    expect(user!.locked_until).not.toBeNull();
    expect(user!.lockout_count).toBe(1);

    // Untrusted: refused with the right password. The user's trusted browser: signs in.
    expect((await postLogin(url(1), PLAIN_USER, PASSWORD)).status).toBe(401);
    expect((await postLogin(url(2), PLAIN_USER, PASSWORD, { cookie: browser.deviceCookie })).status).toBe(200);
  }, SLOW_MACHINE_TIMEOUT_MS);

  it("no process logged an error meanwhile", () => {
    expect(errorLines(cluster.servers)).toEqual([]);
  });
});
