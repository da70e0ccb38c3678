// oidc-provider ships no types (DefinitelyTyped's lag behind v9): the narrow part deadbolt uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export interface KoaContextLike {
    readonly oidc: {
      readonly route: string;
      readonly client?: {
        readonly clientId: string;
        readonly clientName?: string;
        readonly redirectUris?: readonly string[];
        readonly postLogoutRedirectUris?: readonly string[];
      };
      readonly session: { readonly accountId?: string; grantIdFor(clientId: string): string | undefined };
      readonly params: Record<string, unknown>;
      readonly result?: { readonly login?: unknown; readonly consent?: { readonly grantId?: string } };
      readonly account?: unknown;
      readonly provider: Provider;
    };
    body: unknown;
    status: number;
    type: string;
    set(name: string, value: string): void;
    readonly response: { get(name: string): string };
    readonly cookies: {
      get(name: string, options: { signed: boolean }): string | undefined;
      set(name: string, value: string | null, options: Record<string, unknown>): void;
    };
  }

  export interface Grant {
    readonly jti: string;
    readonly accountId: string;
    readonly clientId: string;
    addOIDCScope(scope: string): void;
    save(): Promise<string>;
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string; readonly reasons: readonly string[] };
    readonly params: Record<string, unknown>;
    readonly returnTo: string;
  }

  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>,
      options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    readonly Grant: { new (init: { accountId: string; clientId: string }): Grant; find(id: string): Promise<Grant | undefined> };
    readonly Client: { prototype: { compareClientSecret(this: { clientSecret: string }, actual: string): Promise<boolean> | boolean } };
    on(event: string, listener: (...args: unknown[]) => void): this;
    use(middleware: (ctx: KoaContextLike, next: () => Promise<void>) => Promise<void>): this;
  }

  export class Check {
    constructor(reason: string, description: string, check: (ctx: KoaContextLike) => boolean | Promise<boolean>);
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
  }

  export interface PolicyPrompt { readonly name: string; readonly checks: Check[] }

  export const interactionPolicy: {
    base(): PolicyPrompt[] & { get(name: string): PolicyPrompt | undefined };
    Check: typeof Check;
  };

  export const errors: {
    SessionNotFound: new (...args: unknown[]) => Error;
  };

  export default Provider;
}
