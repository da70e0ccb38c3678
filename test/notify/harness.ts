import type { LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import { startDispatcher, smtpTransport, type Dispatcher, type MailTransport } from "../../src/notify/index.ts";
import { listNotices, type OutboxRow } from "../../src/store/index.ts";
import { createTestApp, postLogin, type TestApp } from "../support/app.ts";
import type { TestDatabase } from "../support/databases.ts";
import { startTestSmtp, type TestSmtp } from "./smtp.ts";

export const PUBLIC_URL = "http://deadbolt.test";
export const PASSWORD = "right-password";
export const THRESHOLD = 3;
export const MINUTE = 60_000;
/** A client the notices should name. */
export const ATTACKER = { "user-agent": "EvilBot/1.0 <script>alert(1)</script>" };

export interface Harness {
  readonly t: TestApp;
  readonly smtp: TestSmtp;
  readonly dispatcher: Dispatcher;
  readonly transport: MailTransport;
  /** Sends every due mail, as the server's dispatcher would. */
  drain(): Promise<number>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly env?: Record<string, string>;
  /** Share one SMTP server (not closed by this harness). */
  readonly smtp?: TestSmtp;
  /** Share one database (not dropped by this harness). */
  readonly database?: TestDatabase;
  readonly batchSize?: number;
  /** Subscribe the dispatcher to the app's outbox signal, as the server does. */
  readonly wake?: boolean;
}

/** A real app and database, a real SMTP server, and a dispatcher on the app's hand-moved clock. */
export async function createHarness(dialect: "sqlite" | "postgres", options: HarnessOptions = {}): Promise<Harness> {
  const smtp = options.smtp ?? await startTestSmtp();
  const t = await createTestApp(dialect, {
    database: options.database,
    env: {
      DEADBOLT_SMTP_URL: smtp.url,
      DEADBOLT_PUBLIC_URL: PUBLIC_URL,
      DEADBOLT_MAIL_FROM: "security@deadbolt.test",
      DEADBOLT_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: String(THRESHOLD),
      DEADBOLT_NOTIFY_MAX_PER_HOUR: "10",
      DEADBOLT_RESET_MAX_PER_HOUR: "10",
      ...options.env,
    },
  });
  const transport = smtpTransport(smtp.url);
  const dispatcher = startDispatcher({
    database: t.auth.database, transport, now: t.clock.now, log: t.auth.log, publicUrl: t.config.publicUrl,
    from: t.config.mailFrom, intervalMs: 0, batchSize: options.batchSize,
    signal: options.wake ? t.auth.notify.signal : undefined,
  });
  return {
    t, smtp, dispatcher, transport,
    drain: () => dispatcher.drain(),
    async close() {
      await dispatcher.stop();
      transport.close();
      await t.close();
      if (!options.smtp) await smtp.close();
    },
  };
}

/** `times` wrong passwords for `email`, each answered with the generic 401. */
export async function failLogins(t: TestApp, email: string, times: number, headers: Record<string, string> = ATTACKER): Promise<void> {
  for (let i = 0; i < times; i++) {
    const response = await postLogin(t.app, email, "wrong-password", headers);
    expect(response.statusCode, response.body).toBe(401);
  }
}

export function outbox(t: TestApp, to?: string): Promise<OutboxRow[]> {
  return listNotices(t.auth.database.db, to === undefined ? {} : { to });
}

export function postJson(t: TestApp, url: string, payload: Record<string, unknown>): Promise<LightMyRequestResponse> {
  return t.app.inject({ method: "POST", url, payload });
}

export function postForm(t: TestApp, url: string, fields: Record<string, string>): Promise<LightMyRequestResponse> {
  return t.app.inject({
    method: "POST", url, payload: new URLSearchParams(fields).toString(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
  });
}
