/**
 * An Express app that keeps its own users table (SQLite) and its own password check, and
 * adopts deadbolt's lockout: the lines between the "lockout" markers are all the glue.
 * The lockout's tables (`deadbolt_*`) live in the same SQLite file, beside `app_users`. A full
 * sign-in makes the browser a trusted device (HttpOnly cookie `deadbolt_device`): whoever locks
 * the account by guessing locks out untrusted clients only, never the owner's own browser.
 */
import { verify } from "@node-rs/argon2";
import SqliteDatabase from "better-sqlite3";
import express, { type Express } from "express";
import { createLockout, type Lockout } from "../../src/index.ts"; // in your app: from "deadbolt"

interface AppUser {
  readonly email: string;
  readonly password_hash: string;
}

/** One answer for an unknown e-mail, a wrong password and a locked account. */
export const GENERIC_FAILURE = { error: "invalid_credentials", message: "Incorrect e-mail or password, or the account is temporarily locked." };

export function createApp(databasePath: string): { app: Express; lockout: Lockout; close(): Promise<void> } {
  const users = new SqliteDatabase(databasePath);
  users.pragma("journal_mode = WAL");
  users.exec("CREATE TABLE IF NOT EXISTS app_users (email TEXT PRIMARY KEY, password_hash TEXT NOT NULL)");
  const findUser = (email: string) => users.prepare("SELECT * FROM app_users WHERE email = ?").get(email) as AppUser | undefined;
  const app = express();
  app.use(express.json());

  // --- lockout: 15 lines of glue ---
  const lockout = createLockout({ databaseUrl: `sqlite:${databasePath}`, policy: { threshold: 5 } });
  app.post("/login", async (req, res) => {
    const { email, password } = req.body ?? {};
    if (typeof email !== "string" || typeof password !== "string") return res.status(400).json({ error: "invalid_request" });
    const user = findUser(email.trim().toLowerCase());
    const outcome = await lockout.attempt({
      account: email.trim().toLowerCase(),
      verify: async () => user !== undefined && await verify(user.password_hash, password),
      client: { ip: req.ip ?? null, userAgent: req.get("user-agent") ?? null,
        deviceToken: req.get("cookie")?.match(/(?:^|;\s*)deadbolt_device=([\w-]+)/)?.[1] },
      onDeviceToken: (token) => res.cookie("deadbolt_device", token, { httpOnly: true, sameSite: "lax", secure: req.secure, maxAge: 400 * 864e5 }),
    });
    if (outcome !== "verified" || !user) return res.status(401).json(GENERIC_FAILURE);
    res.json({ status: "signed_in", email: user.email }); // then start the app's own session
  });
  // --- end of the glue ---

  return { app, lockout, close: async () => { await lockout.close(); users.close(); } };
}
