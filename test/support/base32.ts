import { Secret } from "otpauth";

/** The bytes of a base32 TOTP key, decoded as an authenticator app would (otpauth's decoder). */
export function base32Decode(text: string): Buffer {
  return Buffer.from(Secret.fromBase32(text.replace(/\s+/g, "").toUpperCase()).bytes);
}
