import type { Kysely } from "kysely";
import type { Schema } from "../store/index.ts";

type Db = Kysely<Schema>;

/** What oidc-provider hands an adapter: a JSON object with a few well-known fields. */
export interface OidcPayload {
  readonly grantId?: string;
  readonly accountId?: string;
  readonly clientId?: string;
  readonly uid?: string;
  readonly userCode?: string;
  readonly consumed?: number;
  readonly [field: string]: unknown;
}

/** Rows deleted per pruning statement, so pruning never holds a long lock. */
export const PRUNE_BATCH = 500;

function parse(row: { payload: string; consumed_at: number | null } | undefined): OidcPayload | undefined {
  if (!row) return undefined;
  const payload = JSON.parse(row.payload) as OidcPayload;
  // oidc-provider reads `consumed` (epoch seconds) to detect a replayed code or refresh token.
  return row.consumed_at === null ? payload : { ...payload, consumed: Math.floor(row.consumed_at / 1000) };
}

export async function upsertPayload(
  db: Db, model: string, id: string, payload: OidcPayload, expiresAt: number | null,
): Promise<void> {
  const values = {
    payload: JSON.stringify(payload),
    grant_id: payload.grantId ?? null,
    account_id: payload.accountId ?? null,
    client_id: payload.clientId ?? null,
    uid: payload.uid ?? null,
    user_code: payload.userCode ?? null,
    expires_at: expiresAt,
  };
  await db.insertInto("oidc_payloads").values({ model, id, consumed_at: null, ...values })
    .onConflict((conflict) => conflict.columns(["model", "id"]).doUpdateSet(values))
    .execute();
}

function live(db: Db, model: string, now: number) {
  return db.selectFrom("oidc_payloads").select(["payload", "consumed_at"]).where("model", "=", model)
    .where((eb) => eb.or([eb("expires_at", "is", null), eb("expires_at", ">", now)]));
}

export async function findPayload(db: Db, model: string, id: string, now: number): Promise<OidcPayload | undefined> {
  return parse(await live(db, model, now).where("id", "=", id).executeTakeFirst());
}

export async function findPayloadByUid(db: Db, model: string, uid: string, now: number): Promise<OidcPayload | undefined> {
  return parse(await live(db, model, now).where("uid", "=", uid).executeTakeFirst());
}

export async function findPayloadByUserCode(db: Db, model: string, userCode: string, now: number): Promise<OidcPayload | undefined> {
  return parse(await live(db, model, now).where("user_code", "=", userCode).executeTakeFirst());
}

export async function consumePayload(db: Db, model: string, id: string, now: number): Promise<void> {
  await db.updateTable("oidc_payloads").set({ consumed_at: now })
    .where("model", "=", model).where("id", "=", id).where("consumed_at", "is", null).execute();
}

export async function destroyPayload(db: Db, model: string, id: string): Promise<void> {
  await db.deleteFrom("oidc_payloads").where("model", "=", model).where("id", "=", id).execute();
}

/** Every token and code of a grant, whatever its model (and the grant itself). */
export async function revokeGrant(db: Db, grantId: string): Promise<void> {
  await db.deleteFrom("oidc_payloads")
    .where((eb) => eb.or([eb("grant_id", "=", grantId), eb.and([eb("model", "=", "Grant"), eb("id", "=", grantId)])]))
    .execute();
}

/** Everything issued to one client: its grants, codes and tokens end at once. */
export async function revokeClientArtifacts(db: Db, clientId: string): Promise<void> {
  await db.deleteFrom("oidc_payloads").where("client_id", "=", clientId).execute();
}

/** Deletes up to about PRUNE_BATCH expired rows, oldest first (rows sharing the cutoff instant go together). */
async function pruneBatch(db: Db, now: number): Promise<number> {
  const oldest = await db.selectFrom("oidc_payloads").select("expires_at")
    .where("expires_at", "is not", null).where("expires_at", "<=", now)
    .orderBy("expires_at").limit(PRUNE_BATCH).execute();
  const cutoff = oldest.at(-1)?.expires_at;
  if (cutoff === undefined || cutoff === null) return 0;
  const result = await db.deleteFrom("oidc_payloads").where("expires_at", "<=", cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes every expired row, a batch per statement (so no statement holds a long lock), pausing
 * between batches; returns how many went. Every sign-in leaves several rows, so one batch per
 * run would fall behind a busy server.
 */
export async function pruneExpiredPayloads(
  db: Db, now: number, options: { readonly pause?: () => Promise<void> } = {},
): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await pruneBatch(db, now);
    total += deleted;
    if (deleted < PRUNE_BATCH) return total;
    await options.pause?.();
  }
}

interface SessionAuthorizations {
  readonly authorizations?: Record<string, { readonly grantId?: unknown; readonly persistsLogout?: unknown } | undefined>;
}

/**
 * Ends one browser's provider session, and revokes the grants made in it but those meant to
 * outlive a logout (offline_access), as oidc-provider's own logout does.
 */
export async function endProviderSession(db: Db, sessionId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom("oidc_payloads").select("payload")
      .where("model", "=", "Session").where("id", "=", sessionId).executeTakeFirst();
    if (!row) return;
    const { authorizations } = JSON.parse(row.payload) as SessionAuthorizations;
    for (const authorization of Object.values(authorizations ?? {})) {
      if (typeof authorization?.grantId === "string" && authorization.persistsLogout !== true) await revokeGrant(trx, authorization.grantId);
    }
    await destroyPayload(trx, "Session", sessionId);
  });
}
