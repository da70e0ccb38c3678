import { Ajv } from "ajv";
import { Type, type Static, type TSchema } from "typebox";
import {
  EMAIL_INPUT_PATTERN, EMAIL_MAX_LENGTH, ID_MAX_LENGTH, MULTI_LINE_PATTERN, PASSWORD_MAX_LENGTH, SINGLE_LINE_PATTERN,
} from "../text.ts";

export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
}, { additionalProperties: true });

/*
 * Every text field of every route is one of these (issue 8): bounded, and without control
 * characters (src/text.ts), so both databases answer the same 400 to a NUL instead of one
 * of them a 500. Web forms check the same schemas with `formCheck`.
 */

/** One line of text of at most `maxLength` characters, without control characters. */
export function TextField(options: { minLength?: number; maxLength: number; description?: string; examples?: unknown[] }) {
  return Type.String({ ...options, pattern: SINGLE_LINE_PATTERN });
}

/** Free text (tab and line breaks allowed, no other control character), e.g. an admin's note. */
export function NoteField(options: { maxLength: number; description?: string; examples?: unknown[] }) {
  return Type.String({ ...options, pattern: MULTI_LINE_PATTERN });
}

export const EmailField = Type.String({ minLength: 3, maxLength: EMAIL_MAX_LENGTH, pattern: EMAIL_INPUT_PATTERN });
/**
 * Login accepts any non-empty password up to the hashing limit; rules apply only to new ones.
 * Any character, NUL included: a password is hashed, never stored or queried as text.
 */
export const PasswordField = Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH });
/**
 * A new password: any string, so that the password policy, not the schema, refuses one that
 * is too short or too long, with 400 `weak_password` saying why (SPEC "Passwords"). The body
 * limit bounds it, and the policy refuses over PASSWORD_MAX_LENGTH before any hashing.
 */
export function NewPasswordField(options: { description?: string; examples?: unknown[] } = {}) {
  return Type.String({
    description: `Refused with 400 weak_password when shorter than DEADBOLT_PASSWORD_MIN_LENGTH, longer than ${PASSWORD_MAX_LENGTH} characters, common, built from the e-mail or the site, a run or a repetition, or breached`,
    ...options,
  });
}

/** A token this server issued is 43 base64url characters; anything else is simply not trusted. */
export const DeviceTokenField = TextField({ maxLength: 256, description: "The deviceToken of an earlier sign-in" });

/** Any token a link or an earlier answer carried: a wrong one is `invalid_token`, a control character malformed. */
export const TokenField = TextField({ minLength: 1, maxLength: 512 });

/** The id of a user or a device (a UUID): anything else is a 404, a control character a 400. */
export const IdField = TextField({ minLength: 1, maxLength: ID_MAX_LENGTH });
export const IdParams = Type.Object({ id: IdField });

/** A 6-digit TOTP code or a recovery code (xxxxx-xxxxx); anything else is malformed. */
export const CodeField = Type.String({ minLength: 6, maxLength: 32, pattern: "^[A-Za-z0-9 -]+$" });
/** The code that confirms a new authenticator: six digits. */
export const TotpCodeField = Type.String({ maxLength: 32, pattern: "^\\s*\\d{6}\\s*$" });
/** The token between the password step and the second factor. */
export const MfaTokenField = TextField({ minLength: 20, maxLength: 200 });

export const SessionUserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.Union([Type.Literal("user"), Type.Literal("admin")]),
});

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  role: Type.Union([Type.Literal("user"), Type.Literal("admin")]),
  status: Type.Union([Type.Literal("active"), Type.Literal("locked"), Type.Literal("disabled")]),
  lockedUntil: Type.Union([Type.String(), Type.Null()]),
  lockReason: Type.Union([Type.Literal("password"), Type.Literal("mfa"), Type.Null()]),
  disabledReason: Type.Union([
    Type.Literal("admin"), Type.Literal("mfa_failures"), Type.Literal("repeated_lockouts"), Type.Null(),
  ]),
  failedPasswordAttempts: Type.Integer(),
  failedMfaAttempts: Type.Integer(),
  lockoutCount: Type.Integer(),
  lastFailedAt: Type.Union([Type.String(), Type.Null()]),
  lastFailedIp: Type.Union([Type.String(), Type.Null()]),
  lastLoginAt: Type.Union([Type.String(), Type.Null()]),
  mfaEnabled: Type.Boolean(),
  trustedDevices: Type.Integer({ description: "How many devices the user trusts" }),
  createdAt: Type.String(),
});

export const DeviceSchema = Type.Object({
  id: Type.String(),
  createdAt: Type.String(),
  lastUsedAt: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});
export const DeviceList = Type.Object({ devices: Type.Array(DeviceSchema) });

/** Ajv's "must match pattern "^[^\u0000-…]*$"" in words: a client should not have to read our regular expressions. */
const PATTERN_WORDS: ReadonlyArray<readonly [string, string]> = [
  [EMAIL_INPUT_PATTERN, "must be an e-mail address without spaces or control characters"],
  [SINGLE_LINE_PATTERN, "must not contain control characters"],
  [MULTI_LINE_PATTERN, "must not contain control characters other than tab and line breaks"],
];

/**
 * The message of a validation error, with the text fields' patterns said in words.
 *
 * @example validationMessage('body/email must match pattern "…"') // 'body/email must be an e-mail address …'
 */
export function validationMessage(message: string): string {
  let words = message;
  for (const [pattern, said] of PATTERN_WORDS) words = words.replaceAll(`must match pattern "${pattern}"`, said);
  return words;
}

const formAjv = new Ajv({ coerceTypes: false, useDefaults: false, removeAdditional: false, allErrors: false, strict: false });

/**
 * The API's own schema as a check for a web form's fields, so a page refuses exactly what its
 * API answers 400 to (issue 8: a form must never count what the API calls malformed).
 *
 * @example const validLogin = formCheck(Type.Object({ email: EmailField, password: PasswordField }));
 */
export function formCheck<T extends TSchema>(schema: T): (value: unknown) => value is Static<T> {
  const validate = formAjv.compile(schema);
  return (value: unknown): value is Static<T> => validate(value) === true;
}
