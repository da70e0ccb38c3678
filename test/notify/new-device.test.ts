/**
 * SPEC "E-mail" and DEADBOLT_NOTIFY_NEW_DEVICE, end to end: a full sign-in over real HTTP from
 * a client that presents no device the user trusts is mailed (real SMTP); one from a trusted
 * device (cookie or deviceToken) is not; a password step waiting for its second factor, or a
 * wrong password, is not a sign-in. Every sign-in pathway: the JSON API, the web form, and both
 * with a second factor.
 */
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DIALECTS } from "../support/databases.ts";
import { codeAt, enroll, PASSWORD as MFA_PASSWORD, STEP_MS } from "../mfa/helpers.ts";
import { createHarness, PASSWORD, type Harness } from "./harness.ts";

const USER = "nora@example.com";
const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const SUBJECT = "New sign-in to your account from Firefox 133 on Windows 10";
const DEVICE_COOKIE = "deadbolt_device";

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  /** The deadbolt_device cookie the answer set, if any. */
  readonly device: string | null;
}

function deviceCookieOf(response: Response): string | null {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${DEVICE_COOKIE}=`));
  return line === undefined ? null : line.split(";")[0]!.slice(DEVICE_COOKIE.length + 1);
}

async function listen(h: Harness): Promise<string> {
  await h.t.app.listen({ host: "127.0.0.1", port: 0 });
  return `http://127.0.0.1:${(h.t.app.server.address() as AddressInfo).port}`;
}

/** A JSON POST as a browser holding `cookie` (or none) would send it. */
async function postJson(base: string, path: string, payload: Record<string, unknown>, cookie: string | null = null): Promise<Answer> {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "user-agent": FIREFOX, ...(cookie ? { cookie: `${DEVICE_COOKIE}=${cookie}` } : {}) },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : JSON.parse(text) as Record<string, unknown>, device: deviceCookieOf(response) };
}

/** The web sign-in form, as a browser posts it (same origin), holding `cookies` (name=value pairs). */
async function postForm(base: string, path: string, fields: Record<string, string>, cookies: string[]): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: "POST",
    redirect: "manual",
    headers: {
      "content-type": "application/x-www-form-urlencoded", "user-agent": FIREFOX, origin: base,
      ...(cookies.length > 0 ? { cookie: cookies.join("; ") } : {}),
    },
    body: new URLSearchParams(fields).toString(),
  });
}

function cookieValue(response: Response, name: string): string | null {
  const line = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return line === undefined ? null : line.split(";")[0]!.slice(name.length + 1);
}

/** The new-device mails the user has received so far (after sending everything due). */
async function newDeviceMails(h: Harness): Promise<number> {
  await h.drain();
  return h.smtp.to(USER).filter((m) => m.subject === SUBJECT).length;
}

describe.each(DIALECTS)("the new-device sign-in notice over HTTP and SMTP (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  it("the API: mailed for an untrusted client, not for its deviceToken or cookie afterwards, nor for a failure", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const base = await listen(h);

    expect((await postJson(base, "/api/auth/login", { email: USER, password: "wrong password" })).status).toBe(401);
    expect(await newDeviceMails(h)).toBe(0);

    const first = await postJson(base, "/api/auth/login", { email: USER, password: PASSWORD });
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(await newDeviceMails(h)).toBe(1);
    const [mail] = h.smtp.to(USER).filter((m) => m.subject === SUBJECT);
    expect(mail!.text).toContain("IP address:      127.0.0.1");
    expect(mail!.text).toContain("If this was not you");

    // Now trusted: as an API client (deviceToken) and as the browser (the cookie it was given).
    const token = first.body.deviceToken as string;
    expect((await postJson(base, "/api/auth/login", { email: USER, password: PASSWORD, deviceToken: token })).status).toBe(200);
    expect((await postJson(base, "/api/auth/login", { email: USER, password: PASSWORD }, first.device)).status).toBe(200);
    expect(await newDeviceMails(h)).toBe(1);

    // A client that dropped its token is new again.
    expect((await postJson(base, "/api/auth/login", { email: USER, password: PASSWORD })).status).toBe(200);
    expect(await newDeviceMails(h)).toBe(2);
  });

  it("the web form: mailed for a browser without the cookie, not once it holds it", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    const base = await listen(h);

    const first = await postForm(base, "/login", { email: USER, password: PASSWORD }, []);
    expect(first.status).toBe(303);
    expect(await newDeviceMails(h)).toBe(1);
    const device = cookieValue(first, DEVICE_COOKIE);
    expect(device).not.toBeNull();

    const again = await postForm(base, "/login", { email: USER, password: PASSWORD }, [`${DEVICE_COOKIE}=${device}`]);
    expect(again.status).toBe(303);
    expect(await newDeviceMails(h)).toBe(1);
  });

  it("with a second factor: mailed when the code completes an untrusted sign-in, not at the password step, not for a trusted device", async () => {
    h = await createHarness(dialect);
    const enrolled = await enroll(h.t, USER);
    const base = await listen(h);
    const before = await newDeviceMails(h);

    // The JSON API.
    const step = await postJson(base, "/api/auth/login", { email: USER, password: MFA_PASSWORD });
    expect(step.body.status).toBe("mfa_required");
    expect(await newDeviceMails(h)).toBe(before);
    const done = await postJson(base, "/api/auth/login/mfa", { mfaToken: step.body.mfaToken, code: codeAt(h.t, enrolled.secret) });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(await newDeviceMails(h)).toBe(before + 1);

    h.t.clock.advance(STEP_MS);
    const token = done.body.deviceToken as string;
    const trustedStep = await postJson(base, "/api/auth/login", { email: USER, password: MFA_PASSWORD, deviceToken: token });
    const trusted = await postJson(base, "/api/auth/login/mfa",
      { mfaToken: trustedStep.body.mfaToken, code: codeAt(h.t, enrolled.secret), deviceToken: token });
    expect(trusted.status, JSON.stringify(trusted.body)).toBe(200);
    expect(await newDeviceMails(h)).toBe(before + 1);

    // The web form, from a browser without the cookie: the code page completes it.
    h.t.clock.advance(STEP_MS);
    const form = await postForm(base, "/login", { email: USER, password: MFA_PASSWORD }, []);
    expect(form.status).toBe(303);
    const challenge = cookieValue(form, "deadbolt_mfa");
    expect(challenge).not.toBeNull();
    expect(await newDeviceMails(h)).toBe(before + 1);
    const code = await postForm(base, "/login/mfa", { code: codeAt(h.t, enrolled.secret) }, [`deadbolt_mfa=${challenge}`]);
    expect(code.status).toBe(303);
    expect(await newDeviceMails(h)).toBe(before + 2);
  });

  it("DEADBOLT_NOTIFY_NEW_DEVICE=false and DEADBOLT_DEVICE_TRUST=off mail nothing", async () => {
    const settings: Record<string, string>[] = [{ DEADBOLT_NOTIFY_NEW_DEVICE: "false" }, { DEADBOLT_DEVICE_TRUST: "off" }];
    for (const env of settings) {
      h = await createHarness(dialect, { env });
      await h.t.createUser(USER, PASSWORD);
      const base = await listen(h);
      expect((await postJson(base, "/api/auth/login", { email: USER, password: PASSWORD })).status).toBe(200);
      expect(await newDeviceMails(h)).toBe(0);
      await h.close();
      h = undefined as unknown as Harness;
    }
  });
});
