/**
 * A Fastify app that keeps its own users table (SQLite) and its own password check, and
 * adopts deadbolt's lockout: the lines between the "lockout" markers are all the glue.
 * The lockout's tables (`deadbolt_*`) live in the same SQLite file, beside `app_users`. A full
 * sign-in makes the browser a trusted device (HttpOnly cookie `deadbolt_device`, 400 days):
 * whoever locks the account by guessing locks out untrusted clients only, never the owner's browser.
 */
import { verify } from "@node-rs/argon2";
import SqliteDatabase from "better-sqlite3";
import Fastify, { type FastifyInstance } from "fastify";
import { createLockout } from "../../src/index.ts"; // in your app: from "deadbolt"

interface AppUser {
  readonly email: string;
  readonly password_hash: string;
}

/** One answer for an unknown e-mail, a wrong password and a locked account. */
export const GENERIC_FAILURE = { error: "invalid_credentials", message: "Incorrect e-mail or password, or the account is temporarily locked." };

export function createApp(databasePath: string): FastifyInstance {
  const users = new SqliteDatabase(databasePath);
  users.pragma("journal_mode = WAL");
  users.exec("CREATE TABLE IF NOT EXISTS app_users (email TEXT PRIMARY KEY, password_hash TEXT NOT NULL)");
  const findUser = (email: string) => users.prepare("SELECT * FROM app_users WHERE email = ?").get(email) as AppUser | undefined;
  const app = Fastify();
  const body = { type: "object", required: ["email", "password"], properties: { email: { type: "string" }, password: { type: "string" } } };

  // --- lockout: 15 lines of glue ---
  const lockout = createLockout({ databaseUrl: `sqlite:${databasePath}`, policy: { threshold: 5 } });
  app.addHook("onClose", () => lockout.close());
  app.post<{ Body: { email: string; password: string } }>("/login", { schema: { body } }, async (request, reply) => {
    const user = findUser(request.body.email.trim().toLowerCase());
    const outcome = await lockout.attempt({
      account: request.body.email.trim().toLowerCase(),
      verify: async () => user !== undefined && await verify(user.password_hash, request.body.password),
      client: { ip: request.ip, userAgent: request.headers["user-agent"] ?? null,
        deviceToken: request.headers.cookie?.match(/(?:^|;\s*)deadbolt_device=([\w-]+)/)?.[1] },
      onDeviceToken: (token) => reply.header("set-cookie", `deadbolt_device=${token}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax${
        request.protocol === "https" ? "; Secure" : ""}`),
    });
    if (outcome !== "verified" || !user) return reply.code(401).send(GENERIC_FAILURE);
    return { status: "signed_in", email: user.email }; // then start the app's own session
  });
  // --- end of the glue ---

  app.addHook("onClose", async () => users.close());
  return app;
}
