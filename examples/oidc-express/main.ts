/**
 * `npm run example:oidc`: registers this example as a deadbolt client the first time (through
 * the CLI, on the same database settings as `npm start`), then serves it on
 * http://localhost:4000. Run `npm start` beside it and open http://localhost:4000.
 *
 * Settings: DEADBOLT_PUBLIC_URL (the issuer, default http://localhost:3000), EXAMPLE_PORT
 * (4000), or OIDC_CLIENT_ID / OIDC_CLIENT_SECRET to use a client you created yourself.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRelyingParty } from "./app.ts";

const port = Number(process.env.EXAMPLE_PORT ?? "4000");
const baseUrl = `http://localhost:${port}`;
const issuer = (process.env.DEADBOLT_PUBLIC_URL ?? "http://localhost:3000").replace(/\/+$/, "");
const CLIENT_FILE = "data/oidc-example-client.json";
const BIN = fileURLToPath(new URL("../../bin/deadbolt.js", import.meta.url));

interface Credentials { clientId: string; clientSecret: string }

function deadbolt(...args: string[]): string {
  return execFileSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
}

function registered(): Array<{ clientId: string; redirectUris: string[] }> {
  return JSON.parse(deadbolt("client", "list", "--json")) as Array<{ clientId: string; redirectUris: string[] }>;
}

function credentials(): Credentials {
  if (process.env.OIDC_CLIENT_ID && process.env.OIDC_CLIENT_SECRET) {
    return { clientId: process.env.OIDC_CLIENT_ID, clientSecret: process.env.OIDC_CLIENT_SECRET };
  }
  if (existsSync(CLIENT_FILE)) {
    const saved = JSON.parse(readFileSync(CLIENT_FILE, "utf8")) as Credentials;
    // A fresh database (or another EXAMPLE_PORT) no longer has that client: register again.
    if (registered().some((client) => client.clientId === saved.clientId && client.redirectUris.includes(`${baseUrl}/callback`))) return saved;
  }
  const output = deadbolt("client", "create", "Example app", "--redirect-uri", `${baseUrl}/callback`, "--json");
  const created = JSON.parse(output) as Credentials;
  mkdirSync("data", { recursive: true });
  // The secret is shown once by deadbolt; this example keeps it beside deadbolt's own data.
  writeFileSync(CLIENT_FILE, JSON.stringify({ clientId: created.clientId, clientSecret: created.clientSecret }), { mode: 0o600 });
  chmodSync(CLIENT_FILE, 0o600);
  console.log(`registered the example as client ${created.clientId} (saved in ${CLIENT_FILE})`);
  return created;
}

const app = createRelyingParty({ issuer, baseUrl, ...credentials() });
app.listen(port, "127.0.0.1", () => console.log(`example app on ${baseUrl} (signs in through ${issuer})`));
