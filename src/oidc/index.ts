export type { ClientView, CreateClientResult, NewClient, StoredClient } from "./clients.ts";
export { createClient, deleteClient, findClient, listClients, MAX_REDIRECT_URIS, redirectUriProblem } from "./clients.ts";
export type { KeyInfo, SigningAlg } from "./keys.ts";
export { ensureKeys, KEY_ACTIVATION_DELAY_MS, listKeys, RETIRED_KEY_GRACE_MS, rotateKeys } from "./keys.ts";
export type { OidcService, OidcServiceDeps, PendingInteraction } from "./service.ts";
export type { WebSession } from "./provider.ts";
export { createOidcService, INTERACTION_PARAM, OIDC_PREFIX, PROVIDER_SESSION_COOKIE } from "./service.ts";
export { pruneExpiredPayloads } from "./payloads.ts";
