import type { Kysely } from "kysely";
import { enqueueNotices, insertEvents, type EnqueueOutcome, type Notice, type Schema, type SecurityEvent, type UserRow } from "../store/index.ts";
import { newDeviceNotice } from "../notify/notices.ts";
import { noticeLimits, reportQueued } from "./apply.ts";
import type { AuthContext, Client } from "./context.ts";
import type { CompletedVia } from "./guard.ts";
import { trustClientWrites } from "./devices.ts";
import { logEvents } from "./record.ts";
import { createSession } from "./sessions.ts";

export interface SignInWrites {
  /** For GuardRequest.completion: runs inside the transaction that records the sign-in. */
  readonly within: (trx: Kysely<Schema>, user: UserRow, via: CompletedVia) => Promise<void>;
  /** After that transaction committed: logs its events, wakes the mailer, hands out the tokens. */
  committed(): { readonly token: string; readonly deviceToken: string | null };
}

/**
 * The writes of a completed sign-in (its session, the client as a trusted device with its
 * device.trusted event, the new-device notice) in the transaction that already releases the
 * slot, resets the counters and records login.succeeded: one commit per sign-in instead of
 * four, and a session never exists without the login.succeeded that issued it.
 */
export function signInWrites(
  ctx: AuthContext,
  input: { readonly client: Client; readonly deviceToken: string | null | undefined; readonly notifyNewDevice: boolean },
): SignInWrites {
  let token: string | null = null;
  let deviceToken: string | null = null;
  let events: SecurityEvent[] = [];
  let notices: Notice[] = [];
  let outcomes: EnqueueOutcome[] = [];
  return {
    async within(trx, user, via) {
      token = await createSession(ctx, user, input.client, trx);
      // A trusted device that signed in was marked used with its counter's reset: nothing to add.
      const trusted = via.device !== null && input.deviceToken
        ? { token: input.deviceToken, events: [] }
        : await trustClientWrites(ctx, trx, user, { token: input.deviceToken, client: input.client, via: "login" });
      deviceToken = trusted.token;
      events = trusted.events;
      await insertEvents(trx, events);
      const now = ctx.now();
      notices = input.notifyNewDevice && ctx.notify.delivery !== "none"
        ? [newDeviceNotice(user, { client: input.client, now }, ctx.randomBytes(9).toString("base64url"))]
        : [];
      outcomes = await enqueueNotices(trx, ctx.database.dialect, notices, noticeLimits(ctx, now));
    },
    committed() {
      if (token === null) throw new Error("a sign-in completed without its session");
      logEvents(ctx, events);
      reportQueued(ctx, notices, outcomes);
      return { token, deviceToken };
    },
  };
}
