import { generateKeyPairSync, type JsonWebKey } from "node:crypto";
import type { Kysely } from "kysely";
import { open, seal } from "../auth/secret-box.ts";
import type { Schema } from "../store/index.ts";

type Db = Kysely<Schema>;

export const SIGNING_ALGS = ["RS256", "ES256"] as const;
export type SigningAlg = (typeof SIGNING_ALGS)[number];

/**
 * A rotated-in key is published this long before it signs, so every instance (they re-read the
 * keys every minute) and every RP that fetched the JWKS knows it before a token carries it.
 */
export const KEY_ACTIVATION_DELAY_MS = 5 * 60_000;
/** A retired key stays published while ID tokens it signed may still be checked. */
export const RETIRED_KEY_GRACE_MS = 60 * 60_000 + 10 * 60_000;

export interface SigningJwk extends JsonWebKey {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly use: "sig";
}

export interface KeyInfo {
  readonly kid: string;
  readonly alg: SigningAlg;
  readonly generation: number;
  readonly createdAt: string;
  readonly activeFrom: string;
  readonly publishedUntil: string | null;
  /** Signs new tokens now. */
  readonly signing: boolean;
}

interface KeyDeps {
  readonly secretKey: Buffer;
  readonly now: number;
  readonly randomBytes: (size: number) => Buffer;
}

function generate(alg: SigningAlg, kid: string): SigningJwk {
  const { privateKey } = alg === "RS256"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { ...privateKey.export({ format: "jwk" }), kid, alg, use: "sig" };
}

const sealContext = (kid: string): string => `oidc-key:${kid}`;

async function insertKey(db: Db, alg: SigningAlg, generation: number, activeFrom: number, deps: KeyDeps): Promise<void> {
  const kid = deps.randomBytes(12).toString("base64url");
  const jwk = generate(alg, kid);
  await db.insertInto("oidc_keys").values({
    kid, alg, generation, created_at: deps.now, active_from: activeFrom, published_until: null,
    sealed_jwk: seal(deps.secretKey, Buffer.from(JSON.stringify(jwk)), sealContext(kid)),
  }).execute();
}

function isUniqueViolation(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === "23505" || (typeof message === "string" && /UNIQUE constraint failed/i.test(message));
}

/**
 * Creates the first RS256 and ES256 keys if there are none. Safe from several processes at
 * once: (alg, generation) is unique, so the loser of a race just uses the winner's key.
 */
export async function ensureKeys(db: Db, deps: KeyDeps): Promise<void> {
  for (const alg of SIGNING_ALGS) {
    const existing = await db.selectFrom("oidc_keys").select("kid").where("alg", "=", alg).limit(1).executeTakeFirst();
    if (existing) continue;
    try {
      await insertKey(db, alg, 1, deps.now, deps);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
  }
}

/**
 * Starts a new key generation for each algorithm: published now, signing after
 * KEY_ACTIVATION_DELAY_MS; the keys it replaces stay published until their ID tokens expire.
 */
export async function rotateKeys(db: Db, deps: KeyDeps): Promise<void> {
  const activeFrom = deps.now + KEY_ACTIVATION_DELAY_MS;
  await db.transaction().execute(async (trx) => {
    for (const alg of SIGNING_ALGS) {
      const latest = await trx.selectFrom("oidc_keys").select((eb) => eb.fn.max("generation").as("generation"))
        .where("alg", "=", alg).executeTakeFirst();
      await trx.updateTable("oidc_keys").set({ published_until: activeFrom + RETIRED_KEY_GRACE_MS })
        .where("alg", "=", alg).where("published_until", "is", null).execute();
      await insertKey(trx, alg, Number(latest?.generation ?? 0) + 1, activeFrom, deps);
    }
  });
}

type KeyRow = Schema["oidc_keys"];

async function publishedRows(db: Db, now: number): Promise<KeyRow[]> {
  const rows = await db.selectFrom("oidc_keys").selectAll()
    .where((eb) => eb.or([eb("published_until", "is", null), eb("published_until", ">", now)]))
    .orderBy("generation", "desc").execute();
  return rows;
}

/** Per algorithm, the newest generation that has become active signs. */
function signingKids(rows: readonly KeyRow[], now: number): Set<string> {
  const kids = new Set<string>();
  for (const alg of SIGNING_ALGS) {
    const row = rows.find((candidate) => candidate.alg === alg && candidate.active_from <= now);
    if (row) kids.add(row.kid);
  }
  return kids;
}

/**
 * The private JWKS for oidc-provider: signing keys first (it signs with the first key of an
 * algorithm), then the others, which are published for verification only.
 */
export async function loadSigningJwks(db: Db, deps: Pick<KeyDeps, "secretKey" | "now">): Promise<SigningJwk[]> {
  const rows = await publishedRows(db, deps.now);
  const signing = signingKids(rows, deps.now);
  const ordered = [...rows.filter((row) => signing.has(row.kid)), ...rows.filter((row) => !signing.has(row.kid))];
  return ordered.map((row) => JSON.parse(open(deps.secretKey, row.sealed_jwk, sealContext(row.kid)).toString("utf8")) as SigningJwk);
}

export async function listKeys(db: Db, now: number): Promise<KeyInfo[]> {
  const rows = await publishedRows(db, now);
  const signing = signingKids(rows, now);
  return rows.map((row) => ({
    kid: row.kid,
    alg: row.alg as SigningAlg,
    generation: row.generation,
    createdAt: new Date(row.created_at).toISOString(),
    activeFrom: new Date(row.active_from).toISOString(),
    publishedUntil: row.published_until === null ? null : new Date(row.published_until).toISOString(),
    signing: signing.has(row.kid),
  }));
}
