import type { Kysely } from "kysely";
import type { Schema } from "../store/index.ts";
import { findClient } from "./clients.ts";
import {
  consumePayload, destroyPayload, findPayload, findPayloadByUid, findPayloadByUserCode, revokeGrant, upsertPayload,
  type OidcPayload,
} from "./payloads.ts";

/** The adapter interface oidc-provider instantiates once per model name. */
export interface OidcAdapter {
  upsert(id: string, payload: OidcPayload, expiresIn?: number): Promise<void>;
  find(id: string): Promise<OidcPayload | undefined>;
  findByUid(uid: string): Promise<OidcPayload | undefined>;
  findByUserCode(userCode: string): Promise<OidcPayload | undefined>;
  consume(id: string): Promise<void>;
  destroy(id: string): Promise<void>;
  revokeByGrantId(grantId: string): Promise<void>;
}

export type OidcAdapterClass = new (model: string) => OidcAdapter;

/** Grant types every client gets: the code flow and refresh tokens (rotated). */
const GRANT_TYPES = ["authorization_code", "refresh_token"];

/**
 * Client metadata for oidc-provider. A confidential client's `client_secret` is the stored
 * SHA-256, and the provider compares presented secrets through `clientSecretMatches`.
 */
async function clientMetadata(db: Kysely<Schema>, clientId: string): Promise<OidcPayload | undefined> {
  const stored = await findClient(db, clientId);
  if (!stored) return undefined;
  const { view } = stored;
  return {
    client_id: view.clientId,
    client_name: view.name,
    redirect_uris: [...view.redirectUris],
    post_logout_redirect_uris: [...view.postLogoutRedirectUris],
    grant_types: GRANT_TYPES,
    response_types: ["code"],
    ...(stored.secretHash === null
      ? { token_endpoint_auth_method: "none" }
      : { token_endpoint_auth_method: "client_secret_basic", client_secret: stored.secretHash }),
  };
}

/**
 * An oidc-provider adapter on deadbolt's own database: every instance on one PostgreSQL sees
 * the same sessions, grants, codes and tokens. Clients come from `oidc_clients` (read-only).
 */
export function createAdapterClass(db: Kysely<Schema>, now: () => number): OidcAdapterClass {
  return class DatabaseAdapter implements OidcAdapter {
    readonly model: string;

    constructor(model: string) {
      this.model = model;
    }

    async upsert(id: string, payload: OidcPayload, expiresIn?: number): Promise<void> {
      if (this.model === "Client") return;
      await upsertPayload(db, this.model, id, payload, typeof expiresIn === "number" ? now() + expiresIn * 1000 : null);
    }

    async find(id: string): Promise<OidcPayload | undefined> {
      if (this.model === "Client") return clientMetadata(db, id);
      return findPayload(db, this.model, id, now());
    }

    async findByUid(uid: string): Promise<OidcPayload | undefined> {
      return findPayloadByUid(db, this.model, uid, now());
    }

    async findByUserCode(userCode: string): Promise<OidcPayload | undefined> {
      return findPayloadByUserCode(db, this.model, userCode, now());
    }

    async consume(id: string): Promise<void> {
      await consumePayload(db, this.model, id, now());
    }

    async destroy(id: string): Promise<void> {
      await destroyPayload(db, this.model, id);
    }

    async revokeByGrantId(grantId: string): Promise<void> {
      await revokeGrant(db, grantId);
    }
  };
}
