import { createClient, deleteClient, ensureKeys, listClients, listKeys, rotateKeys, type ClientView } from "../oidc/index.ts";
import { flag, type Values } from "./args.ts";
import { JSON_OPTION, printResult, withRuntime, type Command } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";

/** `--redirect-uri` may be given several times; parseArgs hands over an array then. */
function redirectUris(values: Values): string[] {
  const raw = (values as Record<string, unknown>)["redirect-uri"];
  const list = Array.isArray(raw) ? raw : typeof raw === "string" ? [raw] : [];
  return list.filter((uri): uri is string => typeof uri === "string");
}

function clientLines(client: ClientView): string {
  return [
    `client id:      ${client.clientId}`,
    `name:           ${client.name}`,
    `type:           ${client.public ? "public (no secret; PKCE required)" : "confidential (client_secret_basic)"}`,
    `redirect URIs:  ${client.redirectUris.join(" ")}`,
    `after logout:   ${client.postLogoutRedirectUris.join(" ")}`,
    `created:        ${client.createdAt}`,
  ].join("\n");
}

const create: Command = {
  name: "client create",
  synopsis: "<name> --redirect-uri <uri>… [--public] [--json]",
  summary: "register an OpenID Connect client (an app that signs its users in through deadbolt)",
  details: [
    "--redirect-uri <uri>  where deadbolt may send the user back (exact match); repeat for more",
    "--public              a client without a secret (single-page or native app): PKCE required",
    "--json                print the client (and its secret, shown only this once) as JSON",
  ],
  options: { "redirect-uri": { type: "string", multiple: true }, public: { type: "boolean" }, ...JSON_OPTION },
  args: ["name"],
  run: (io, { values, positionals }) => {
    const uris = redirectUris(values);
    if (uris.length === 0) throw new UsageError("missing --redirect-uri <uri>");
    return withRuntime(io, async (runtime) => {
      const result = await createClient(runtime.auth.database.db, {
        name: positionals[0] as string, redirectUris: uris, public: flag(values, "public"),
      }, { now: runtime.auth.now(), randomBytes: runtime.auth.randomBytes });
      if (!result.ok) throw new CliError(result.message);
      const secret = result.clientSecret === null ? ""
        : `client secret:  ${result.clientSecret}\n(shown only now: deadbolt keeps only its hash)\n`;
      return printResult(io, values, { ...result.client, clientSecret: result.clientSecret }, () =>
        `created client ${result.client.name}\n${clientLines(result.client)}\n${secret}issuer:         ${runtime.config.publicUrl}\n`);
    });
  },
};

const list: Command = {
  name: "client list",
  synopsis: "[--json]",
  summary: "list OpenID Connect clients",
  details: ["--json  print a JSON array of clients (the HTTP API's fields)"],
  options: JSON_OPTION,
  args: [],
  run: (io, { values }) => withRuntime(io, async (runtime) => {
    const clients = await listClients(runtime.auth.database.db);
    return printResult(io, values, clients, () => clients.length === 0 ? "no clients\n" : `${clients.map(clientLines).join("\n\n")}\n`);
  }),
};

const remove: Command = {
  name: "client delete",
  synopsis: "<clientId>",
  summary: "delete a client and revoke every token it was issued",
  details: [],
  options: {},
  args: ["clientId"],
  run: (io, { positionals }) => withRuntime(io, async (runtime) => {
    const clientId = positionals[0] as string;
    if (!(await deleteClient(runtime.auth.database.db, clientId))) throw new CliError(`no client with id ${clientId}`);
    io.stdout.write(`deleted client ${clientId}; its grants and tokens are revoked\n`);
    return 0;
  }),
};

const rotate: Command = {
  name: "keys rotate",
  synopsis: "[--json]",
  summary: "start new OpenID Connect signing keys (RS256, ES256); the old ones stay published until their tokens expire",
  details: ["--json  print the published keys as JSON"],
  options: JSON_OPTION,
  args: [],
  run: (io, { values }) => withRuntime(io, async (runtime) => {
    const deps = { secretKey: runtime.auth.secretKey, now: runtime.auth.now(), randomBytes: runtime.auth.randomBytes };
    // Rotating before any key exists would leave nothing signing until the new key activates.
    await ensureKeys(runtime.auth.database.db, deps);
    await rotateKeys(runtime.auth.database.db, deps);
    const keys = await listKeys(runtime.auth.database.db, deps.now);
    const lines = keys.map((key) => `${key.alg} ${key.kid} generation ${key.generation}: ${key.signing ? "signing"
      : key.publishedUntil === null ? `signs from ${key.activeFrom}` : `published until ${key.publishedUntil}`}`);
    return printResult(io, values, keys, () => `rotated; servers pick the new keys up within a minute\n${lines.join("\n")}\n`);
  }),
};

const keysList: Command = {
  name: "keys list",
  synopsis: "[--json]",
  summary: "list the published OpenID Connect signing keys",
  details: ["--json  print the keys as JSON"],
  options: JSON_OPTION,
  args: [],
  run: (io, { values }) => withRuntime(io, async (runtime) => {
    const keys = await listKeys(runtime.auth.database.db, runtime.auth.now());
    return printResult(io, values, keys, () => keys.length === 0
      ? "no keys yet: they are generated on the first OpenID Connect request\n"
      : `${keys.map((key) => `${key.alg} ${key.kid} generation ${key.generation}${key.signing ? " (signing)" : ""}`).join("\n")}\n`);
  }),
};

export const CLIENT_COMMANDS: readonly Command[] = [create, list, remove, rotate, keysList];
