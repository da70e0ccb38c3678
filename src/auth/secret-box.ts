import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const VERSION = "v1";

/**
 * Encrypts a secret with AES-256-GCM; `context` (the user id) is authenticated too, so a
 * ciphertext copied onto another user's row does not decrypt.
 */
export function seal(key: Buffer, plaintext: Buffer, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, iv.toString("base64"), cipher.getAuthTag().toString("base64"), body.toString("base64")].join(".");
}

export function open(key: Buffer, sealed: string, context: string): Buffer {
  const [version, iv, tag, body] = sealed.split(".");
  if (version !== VERSION || !iv || !tag || body === undefined) throw new Error("unknown secret format");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  return Buffer.concat([decipher.update(Buffer.from(body, "base64")), decipher.final()]);
}

/**
 * DEADBOLT_SECRET_KEY, or for SQLite a key kept beside the database file (`deadbolt.key`,
 * mode 0600), generated on first start. In-memory databases get a throwaway key.
 */
export function resolveSecretKey(configured: Buffer | null, sqlitePath: string | null): Buffer {
  if (configured !== null) return configured;
  if (sqlitePath === null) return randomBytes(32);
  const file = join(dirname(sqlitePath), "deadbolt.key");
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  }
  const key = randomBytes(32);
  // "wx": if another process created it first, fail and read theirs instead.
  try {
    writeFileSync(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
    chmodSync(file, 0o600);
    return key;
  } catch (error) {
    if (existsSync(file)) return resolveSecretKey(null, sqlitePath);
    throw error;
  }
}
