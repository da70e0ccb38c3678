import { Type } from "typebox";

export const ErrorSchema = Type.Object({
  error: Type.String(),
  message: Type.String(),
}, { additionalProperties: true });

export const EmailField = Type.String({ minLength: 3, maxLength: 254, pattern: "^\\s*[^\\s@]+@[^\\s@]+\\s*$" });
/** Login accepts any non-empty password up to the hashing limit; rules apply only to new ones. */
export const PasswordField = Type.String({ minLength: 1, maxLength: 1024 });

/** A token this server issued is 43 base64url characters; anything else is simply not trusted. */
export const DeviceTokenField = Type.String({ maxLength: 256, description: "The deviceToken of an earlier sign-in" });

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
