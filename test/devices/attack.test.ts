/**
 * The attack of issue 9, end to end (SPEC "Trusted devices"): whoever knows an e-mail address
 * keeps its owner's account locked (threshold 5), from several concurrent clients on three
 * server processes sharing one database, and never stops. Meanwhile:
 * - the user's trusted browser (its `deadbolt_device` cookie) signs in with the right password
 *   every time;
 * - a client that was never trusted is refused, right password or not;
 * - the lock notice arrives over SMTP; its unlock link, redeemed in a fresh client (its own
 *   cookie jar), makes that client a trusted device, and it signs in although the attacker has
 *   locked the account again.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail } from "../../src/store/index.ts";
import { startTestSmtp, tokenIn, type ReceivedMail, type TestSmtp } from "../notify/smtp.ts";
import {
  errorLines, lockoutEvents, postLogin, SLOW_MACHINE_TIMEOUT_MS, startCluster, tallyOf, type Answer, type Cluster,
} from "./processes.ts";

const PROCESSES = 3;
const THRESHOLD = 5;
/** Concurrent attacking clients, spread over the processes. */
const ATTACKERS = 9;
const TRUSTED_SIGN_INS = 6;
const PASSWORD = "correct horse battery staple";
const USER = "victim@example.com";
const POLL_MS = 50;

/** Polls `probe` until it returns a value (not undefined); the suite's timeout bounds the wait. */
async function eventually<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A browser of its own: keeps the cookies its answers set and sends them back. */
class CookieJar {
  private readonly cookies = new Map<string, string>();
  header(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
  }
  keep(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const at = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, at), pair!.slice(at + 1));
    }
  }
  get(name: string): string | null {
    return this.cookies.get(name) ?? null;
  }
}

describe.each(["postgres", "sqlite"] as const)("an attacker keeps locking the user, three processes on one %s database", (dialect) => {
  let smtp: TestSmtp;
  let cluster: Cluster;
  const url = (i: number): string => cluster.servers[i % PROCESSES]!.url;

  beforeAll(async () => {
    smtp = await startTestSmtp();
    cluster = await startCluster(dialect, {
      processes: PROCESSES, users: [USER], password: PASSWORD,
      env: { DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD), DEADBOLT_SMTP_URL: smtp.url, DEADBOLT_PUBLIC_URL: "http://deadbolt.test" },
    });
  }, SLOW_MACHINE_TIMEOUT_MS);

  afterAll(async () => {
    await cluster?.close();
    await smtp?.close();
  });

  async function lockNotices(): Promise<ReceivedMail[]> {
    return smtp.to(USER).filter((m) => m.subject.startsWith("Your account is locked until"));
  }

  async function lockedNow(): Promise<boolean> {
    const row = await findUserByEmail(cluster.database.db, USER);
    return row?.locked_until != null && row.locked_until > Date.now();
  }

  it("the trusted browser always signs in, a never-trusted client never does, and the unlock link trusts a fresh browser", async () => {
    // Before the attack, the user signs in once with their browser: it becomes a trusted device.
    const first = await postLogin(url(0), USER, PASSWORD);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const browser = first.deviceCookie!;
    expect(browser).toMatch(/^[A-Za-z0-9_-]{43}$/);

    let attacking = true;
    const attackAnswers: Answer[] = [];
    const attack = Promise.all(Array.from({ length: ATTACKERS }, async (_, worker) => {
      for (let n = 0; attacking; n++) attackAnswers.push(await postLogin(url(worker + n), USER, `guess ${worker}-${n}`));
    }));
    try {
      await eventually(async () => ((await lockedNow()) ? true : undefined));

      const trusted: number[] = [];
      const neverTrusted: number[] = [];
      for (let i = 0; i < TRUSTED_SIGN_INS; i++) {
        trusted.push((await postLogin(url(i), USER, PASSWORD, { cookie: browser })).status);
        neverTrusted.push((await postLogin(url(i + 1), USER, PASSWORD)).status);
      }
      expect(trusted).toEqual(Array(TRUSTED_SIGN_INS).fill(200));
      expect(neverTrusted).toEqual(Array(TRUSTED_SIGN_INS).fill(401));

      // The lock notice, sent by whichever process dispatched the outbox.
      const [notice] = await eventually(async () => {
        const mails = await lockNotices();
        return mails.length > 0 ? mails : undefined;
      });
      const token = tokenIn(notice, "unlock");

      // A fresh browser opens the link (a page with a button), then presses the button.
      const fresh = new CookieJar();
      const page = await fetch(`${url(1)}/unlock?token=${token}`, { headers: fresh.header() });
      expect(page.status).toBe(200);
      fresh.keep(page);
      const unlocked = await fetch(`${url(2)}/unlock`, {
        method: "POST", redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: url(2), ...fresh.header() },
        body: new URLSearchParams({ token }).toString(),
      });
      expect(unlocked.status, await unlocked.clone().text()).toBe(200);
      fresh.keep(unlocked);
      expect(fresh.get("deadbolt_device")).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // The attack goes on: the account is locked again (a second lock episode) …
      await eventually(async () => ((await lockoutEvents(cluster.database, USER))["account.locked"] ?? 0) >= 2 ? true : undefined);
      expect(await lockedNow()).toBe(true);
      // … and still the fresh browser and the old one sign in, while an untrusted client does not.
      for (let i = 0; i < 3; i++) {
        expect((await postLogin(url(i), USER, PASSWORD, { cookie: fresh.get("deadbolt_device") })).status).toBe(200);
        expect((await postLogin(url(i + 1), USER, PASSWORD, { cookie: browser })).status).toBe(200);
        expect((await postLogin(url(i + 2), USER, PASSWORD)).status).toBe(401);
      }
    } finally {
      attacking = false;
      await attack;
    }

    // Every guess got the generic 401; none got in, and none was turned away as busy.
    expect(tallyOf(attackAnswers, (a) => String(a.status))).toEqual({ "401": attackAnswers.length });
    const tally = await lockoutEvents(cluster.database, USER);
    // The unlock link was used once; the account was re-locked after it; the trusted devices never were.
    expect(tally["account.unlocked"]).toBe(1);
    expect(tally["account.locked"]).toBeGreaterThanOrEqual(2);
    expect(tally["device.locked"]).toBeUndefined();
    expect(tally["login.succeeded"]).toBe(1 + TRUSTED_SIGN_INS + 2 * 3);
    expect(tally["device.trusted"]).toBe(2);
  }, SLOW_MACHINE_TIMEOUT_MS);

  it("no process logged an error meanwhile", () => {
    expect(errorLines(cluster.servers)).toEqual([]);
  });
});
