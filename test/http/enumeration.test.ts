import type { LightMyRequestResponse } from "fastify";
import { afterEach, describe, expect, it } from "vitest";
import { CLI_ACTOR, disableUser, type Hasher } from "../../src/auth/index.ts";
import { FAILURE_QUANTUM_MS } from "../../src/http/login-answer.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, headersWithoutDate, median, metricValue, scrape, shuffled, SPEC_FAILURE_MESSAGE, viewOf } from "./helpers.ts";

const RIGHT = "right-password";
const THRESHOLD = 5;
/** Wrong-password samples rotate over this many users so none of them reaches the threshold. */
const VICTIMS = 12;
const SAMPLES_PER_CASE = 40;

type Case = "unknown" | "wrong" | "locked" | "disabled";
const CASES: readonly Case[] = ["unknown", "wrong", "locked", "disabled"];

interface Sample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

describe.each(DIALECTS)("login failures do not tell accounts apart (%s)", (dialect) => {
  let t: TestApp;
  let victim = 0;
  afterEach(async () => t?.close());

  /** One user per case: a few wrong-password victims, one locked, one disabled. */
  async function setUp(env: Record<string, string> = {}): Promise<void> {
    victim = 0;
    t = await createTestApp(dialect, { env: { DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD), ...env } });
    for (let i = 0; i < VICTIMS; i++) await t.createUser(`wrong${i}@example.com`, RIGHT);
    await t.createUser("locked@example.com", RIGHT);
    const disabled = await t.createUser("disabled@example.com", RIGHT);
    for (let i = 0; i < THRESHOLD; i++) expect((await postLogin(t.app, "locked@example.com", "guess")).statusCode).toBe(401);
    expect((await disableUser(t.auth, disabled.id, CLI_ACTOR)).ok).toBe(true);
    expect((await viewOf(t, "locked@example.com")).status).toBe("locked");
    expect((await viewOf(t, "disabled@example.com")).status).toBe("disabled");
  }

  function attempt(kind: Case, password = "wrong-password"): Promise<LightMyRequestResponse> {
    const email = kind === "unknown" ? "nobody@example.com"
      : kind === "wrong" ? `wrong${victim++ % VICTIMS}@example.com`
      : `${kind}@example.com`;
    return postLogin(t.app, email, password);
  }

  function expectSameAnswer(responses: readonly LightMyRequestResponse[], message: string): void {
    const expectedBody = JSON.stringify({ error: "invalid_credentials", message });
    const reference = headersWithoutDate(responses[0] as LightMyRequestResponse);
    expect(reference["content-type"]).toBe("application/json; charset=utf-8");
    expect(reference["content-length"]).toBe(String(Buffer.byteLength(expectedBody)));
    for (const response of responses) {
      expect(response.statusCode).toBe(401);
      expect(response.body).toBe(expectedBody);
      expect(headersWithoutDate(response)).toEqual(reference);
    }
  }

  it("unknown, wrong, locked and disabled get byte-identical 401s with SPEC's default message", async () => {
    await setUp();
    const before = (await events(t, { type: "login.failed" })).length;
    const responses = [
      await attempt("unknown"), await attempt("wrong"),
      await attempt("locked"), await attempt("locked", RIGHT),
      await attempt("disabled"), await attempt("disabled", RIGHT),
    ];
    expectSameAnswer(responses, SPEC_FAILURE_MESSAGE);
    // The six answers really came from the four different paths.
    const reasons = (await events(t, { type: "login.failed" })).slice(before).map((e) => e.details.reason);
    expect(reasons).toEqual(["unknown_user", "wrong_password", "locked", "locked", "disabled", "disabled"]);
  });

  it("DEADBOLT_LOGIN_FAILURE_MESSAGE replaces the message, still identical for every case", async () => {
    await setUp({ DEADBOLT_LOGIN_FAILURE_MESSAGE: "Sign-in failed. Use the reset link if you are stuck." });
    const responses = [await attempt("unknown"), await attempt("wrong"), await attempt("locked", RIGHT), await attempt("disabled", RIGHT)];
    expectSameAnswer(responses, "Sign-in failed. Use the reset link if you are stuck.");
  });

  it("every failure case spends exactly one argon2 verification (real for wrong, dummy otherwise)", async () => {
    await setUp();
    const spent: Record<string, { real: number; dummy: number }> = {};
    for (const kind of CASES) {
      const before = await scrape(t);
      expect((await attempt(kind)).statusCode).toBe(401);
      const after = await scrape(t);
      const delta = (k: string) => metricValue(after, "deadbolt_password_verifications_total", { kind: k })
        - metricValue(before, "deadbolt_password_verifications_total", { kind: k });
      spent[kind] = { real: delta("real"), dummy: delta("dummy") };
    }
    expect(spent).toEqual({
      unknown: { real: 0, dummy: 1 },
      wrong: { real: 1, dummy: 0 },
      locked: { real: 0, dummy: 1 },
      disabled: { real: 0, dummy: 1 },
    });
  });

  /** Wall time and process CPU time (argon2 runs on a worker thread of this process) of one attempt. */
  async function measure(kind: Case): Promise<Sample> {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const response = await attempt(kind);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    expect(response.statusCode).toBe(401);
    return { wallMs, cpuMs: (used.user + used.system) / 1000 };
  }

  async function sample(kinds: readonly Case[], perCase: number): Promise<Record<Case, Sample[]>> {
    const samples: Record<Case, Sample[]> = { unknown: [], wrong: [], locked: [], disabled: [] };
    // Warm-up, so the first samples do not pay for JIT and connection set-up.
    for (const kind of kinds) await measure(kind);
    for (const kind of shuffled(kinds.flatMap((k) => Array.from({ length: perCase }, () => k)))) {
      samples[kind].push(await measure(kind));
    }
    return samples;
  }

  /** Half of one argon2 verification on this machine, in wall and CPU time: one verification more exceeds it. */
  async function tolerance(): Promise<Sample> {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 9; i++) {
      const used = process.cpuUsage();
      const started = performance.now();
      await t.auth.hasher.dummyVerify("calibration");
      wall.push(performance.now() - started);
      const spent = process.cpuUsage(used);
      cpu.push((spent.user + spent.system) / 1000);
    }
    const limit = { wallMs: median(wall) / 2, cpuMs: median(cpu) / 2 };
    // Without a measurable argon2 the properties below would be vacuous.
    expect(limit.wallMs).toBeGreaterThan(2);
    expect(limit.cpuMs).toBeGreaterThan(2);
    return limit;
  }

  function spread(samples: Record<Case, Sample[]>, kinds: readonly Case[], field: keyof Sample): number {
    const medians = kinds.map((k) => median(samples[k].map((s) => s[field])));
    return Math.max(...medians) - Math.min(...medians);
  }

  // A busy machine can push one case's real work past a grid step for a while; a real difference
  // of one verification shows in every attempt, so a retry only removes noise.
  it("timing: the four cases' median latency and CPU work differ by less than half an argon2 verification", { retry: 2 }, async () => {
    await setUp();
    const limit = await tolerance();
    const samples = await sample(CASES, SAMPLES_PER_CASE);
    for (const kind of CASES) {
      // Every failure is answered on the grid, never before the first step.
      expect(median(samples[kind].map((s) => s.wallMs))).toBeGreaterThanOrEqual(FAILURE_QUANTUM_MS - 1);
    }
    const report = JSON.stringify({ limit, wallSpread: spread(samples, CASES, "wallMs"), cpuSpread: spread(samples, CASES, "cpuMs") });
    expect(spread(samples, CASES, "wallMs"), report).toBeLessThan(limit.wallMs);
    // The grid hides latency only while the work fits in one step: the work itself must match too.
    expect(spread(samples, CASES, "cpuMs"), report).toBeLessThan(limit.cpuMs);
  });

  it("control: the same measurement notices an unknown-user path that skips the dummy verification", async () => {
    await setUp();
    const limit = await tolerance();
    const hasher: Hasher = t.auth.hasher;
    const original = hasher.dummyVerify;
    hasher.dummyVerify = async () => {};
    try {
      const samples = await sample(["unknown", "wrong"], 20);
      expect(spread(samples, ["unknown", "wrong"], "cpuMs")).toBeGreaterThan(limit.cpuMs);
    } finally {
      hasher.dummyVerify = original;
    }
  });
});
