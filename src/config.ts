import { isIP } from "node:net";
import { formatDuration, parseDuration } from "./duration.ts";

export type Disclosure = "generic" | "informative";
export type MfaAction = "lock" | "disable";
export type BreachedPasswords = "off" | "hibp";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/** DEADBOLT_TRUST_PROXY as Fastify's `trustProxy` takes it (proxy-addr underneath). */
export type TrustProxy = false | number | readonly string[];

export interface LockoutConfig {
  readonly threshold: number;
  readonly windowMs: number;
  readonly durationMs: number;
  readonly backoff: number;
  readonly maxDurationMs: number;
  readonly disableAfter: number;
  readonly adminThreshold: number;
  readonly mfaThreshold: number;
  readonly mfaAction: MfaAction;
}

/** The second listener for /metrics, /healthz and /readyz; never exposed with the public port. */
export interface ManagementListener {
  readonly host: string;
  /** 0 listens on a free port (tests); DEADBOLT_MANAGEMENT_PORT=0 means no listener at all. */
  readonly port: number;
}

export interface Config {
  readonly databaseUrl: string;
  readonly host: string;
  readonly port: number;
  /** null when DEADBOLT_MANAGEMENT_PORT=0. */
  readonly management: ManagementListener | null;
  readonly publicUrl: string;
  readonly lockout: LockoutConfig;
  readonly disclosure: Disclosure;
  readonly loginFailureMessage: string;
  /** 32-byte key, or null when it is to be generated beside the SQLite file. */
  readonly secretKey: Buffer | null;
  readonly emergencyUnlock: string | null;
  readonly smtpUrl: string | null;
  readonly mailFrom: string;
  readonly notifyMaxPerHour: number;
  /** Requested password-reset mails per user per hour: their own budget, never the security one. */
  readonly resetMaxPerHour: number;
  /** Mail the user when a sign-in comes from a device that was not trusted. */
  readonly notifyNewDevice: boolean;
  readonly warnBeforeLock: boolean;
  readonly logLevel: LogLevel;
  /** Failed attempts (and forgot requests) one client may make per minute before 429; 0 = unlimited. */
  readonly throttlePerMinute: number;
  /** DEADBOLT_TRUST_PROXY: whose X-Forwarded-For is believed (Fastify's `trustProxy`). */
  readonly trustProxy: TrustProxy;
  readonly redisUrl: string | null;
  readonly sessionIdleMs: number;
  readonly sessionMaxAgeMs: number;
  /** DEADBOLT_DEVICE_TRUST: trusted devices (SPEC "Trusted devices"); false = plain per-account lockout. */
  readonly deviceTrust: boolean;
  /** DEADBOLT_APP_NAME: shown in pages, mails and authenticator apps (the TOTP issuer). */
  readonly appName: string;
  /** Whether DEADBOLT_PUBLIC_URL was set, or derived from the port (for the start-up check). */
  readonly publicUrlSet: boolean;
  /** DEADBOLT_EVENT_RETENTION: events (and mails, tokens, sessions) older than this are pruned; 0 = forever. */
  readonly eventRetentionMs: number;
  readonly passwordMinLength: number;
  readonly breachedPasswords: BreachedPasswords;
  /** Base of the Have I Been Pwned range API, without a trailing slash. */
  readonly hibpUrl: string;
}

export const DEFAULT_LOGIN_FAILURE_MESSAGE =
  "Incorrect e-mail or password, or the account is temporarily locked. " +
  "Check your e-mail for instructions, or reset your password.";

export const DEFAULTS = Object.freeze({
  DEADBOLT_DATABASE_URL: "sqlite:./data/deadbolt.db",
  DEADBOLT_HOST: "127.0.0.1",
  DEADBOLT_PORT: "3000",
  DEADBOLT_MANAGEMENT_HOST: "127.0.0.1",
  DEADBOLT_MANAGEMENT_PORT: "9464",
  DEADBOLT_PUBLIC_URL: "http://localhost:3000",
  DEADBOLT_LOCKOUT_THRESHOLD: "5",
  DEADBOLT_LOCKOUT_WINDOW: "15m",
  DEADBOLT_LOCKOUT_DURATION: "15m",
  DEADBOLT_LOCKOUT_BACKOFF: "2",
  DEADBOLT_LOCKOUT_MAX_DURATION: "24h",
  DEADBOLT_LOCKOUT_DISABLE_AFTER: "0",
  DEADBOLT_ADMIN_LOCKOUT_THRESHOLD: "10",
  DEADBOLT_MFA_THRESHOLD: "5",
  DEADBOLT_MFA_LOCKOUT_ACTION: "lock",
  DEADBOLT_LOCKOUT_DISCLOSURE: "generic",
  DEADBOLT_LOGIN_FAILURE_MESSAGE: DEFAULT_LOGIN_FAILURE_MESSAGE,
  DEADBOLT_MAIL_FROM: "deadbolt@localhost",
  DEADBOLT_NOTIFY_MAX_PER_HOUR: "3",
  DEADBOLT_RESET_MAX_PER_HOUR: "3",
  DEADBOLT_NOTIFY_NEW_DEVICE: "true",
  DEADBOLT_WARN_BEFORE_LOCK: "false",
  DEADBOLT_LOG_LEVEL: "info",
  DEADBOLT_THROTTLE_PER_MINUTE: "600",
  DEADBOLT_SESSION_IDLE_TIMEOUT: "12h",
  DEADBOLT_SESSION_MAX_AGE: "7d",
  DEADBOLT_DEVICE_TRUST: "on",
  DEADBOLT_APP_NAME: "deadbolt",
  DEADBOLT_EVENT_RETENTION: "90d",
  DEADBOLT_PASSWORD_MIN_LENGTH: "8",
  DEADBOLT_BREACHED_PASSWORDS: "off",
  DEADBOLT_HIBP_URL: "https://api.pwnedpasswords.com",
});

const APP_NAME_MAX_LENGTH = 60;

/** A bad configuration value; `message` is the one line shown to the operator. */
export class ConfigError extends Error {
  readonly code = "invalid_config";
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: keyof typeof DEFAULTS): string {
  const value = env[name];
  return value === undefined || value === "" ? DEFAULTS[name] : value;
}

function optional(env: Env, name: string): string | null {
  const value = env[name];
  return value === undefined || value.trim() === "" ? null : value.trim();
}

function fail(name: string, value: string, allowed: string): never {
  throw new ConfigError(`${name}=${JSON.stringify(value)} is invalid: expected ${allowed}`);
}

function integer(env: Env, name: keyof typeof DEFAULTS, min: number, max: number): number {
  const text = read(env, name).trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    fail(name, text, `a whole number from ${min} to ${max}`);
  }
  return value;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** No setting may make a lock or an expiry unrepresentable (SPEC: a lock over 10 years is refused). */
const TEN_YEARS = 3_650 * DAY;

/** Sane range of every duration variable: long enough to mean something, short enough to be a date. */
const DURATION_RANGES = {
  DEADBOLT_LOCKOUT_WINDOW: [SECOND, 365 * DAY],
  DEADBOLT_LOCKOUT_DURATION: [SECOND, TEN_YEARS],
  DEADBOLT_LOCKOUT_MAX_DURATION: [SECOND, TEN_YEARS],
  DEADBOLT_SESSION_IDLE_TIMEOUT: [MINUTE, 400 * DAY],
  DEADBOLT_SESSION_MAX_AGE: [MINUTE, 400 * DAY],
} as const satisfies Partial<Record<keyof typeof DEFAULTS, readonly [number, number]>>;

/** The sane range of DEADBOLT_EVENT_RETENTION: shorter than an hour would prune what the console shows. */
export const RETENTION_MIN_MS = 60 * MINUTE;
export const RETENTION_MAX_MS = TEN_YEARS;

/** `0` (keep forever) or a duration from an hour to ten years. */
function retention(env: Env): number {
  const text = read(env, "DEADBOLT_EVENT_RETENTION");
  if (text.trim() === "0") return 0;
  const ms = parseDuration(text);
  if (ms === null || ms < RETENTION_MIN_MS || ms > RETENTION_MAX_MS) {
    fail("DEADBOLT_EVENT_RETENTION", text, "0 (keep forever) or a duration from 1h to 3650d, such as 30d or 90d");
  }
  return ms;
}

function duration(env: Env, name: keyof typeof DURATION_RANGES): number {
  const text = read(env, name).trim();
  const [min, max] = DURATION_RANGES[name];
  const ms = parseDuration(text);
  if (ms === null || ms < min || ms > max) {
    fail(name, text, `a duration from ${formatDuration(min)} to ${formatDuration(max)}, such as 500ms, 2s, 15m, 24h or 7d`);
  }
  return ms;
}

function oneOf<T extends string>(env: Env, name: keyof typeof DEFAULTS, allowed: readonly T[]): T {
  const text = read(env, name).trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(text)) fail(name, text, allowed.join(" or "));
  return text as T;
}

function boolean(env: Env, name: keyof typeof DEFAULTS): boolean {
  const text = read(env, name).trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(text)) return true;
  if (["false", "0", "no", "off"].includes(text)) return false;
  return fail(name, text, "true or false");
}

function url(env: Env, name: keyof typeof DEFAULTS, protocols: readonly string[]): string {
  const text = read(env, name).trim();
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return fail(name, text, `a URL starting with ${protocols.join(" or ")}`);
  }
  if (!protocols.includes(parsed.protocol)) fail(name, text, `a URL starting with ${protocols.join(" or ")}`);
  return text.replace(/\/+$/, "");
}

function databaseUrl(env: Env): string {
  const text = read(env, "DEADBOLT_DATABASE_URL").trim();
  if (/^sqlite:.+/.test(text) || /^postgres(ql)?:\/\/.+/.test(text)) return text;
  return fail("DEADBOLT_DATABASE_URL", text, "sqlite:<path> or postgres://…");
}

function secretKey(env: Env, isPostgres: boolean): Buffer | null {
  const text = optional(env, "DEADBOLT_SECRET_KEY");
  if (text === null) {
    if (isPostgres) {
      throw new ConfigError(
        "DEADBOLT_SECRET_KEY is required with PostgreSQL: set it to 32 random bytes in base64 " +
          "(for example: openssl rand -base64 32), the same on every instance",
      );
    }
    return null;
  }
  const key = Buffer.from(text, "base64");
  if (key.length !== 32 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) {
    fail("DEADBOLT_SECRET_KEY", "(hidden)", "32 bytes encoded in base64 (openssl rand -base64 32)");
  }
  return key;
}

function management(env: Env): ManagementListener | null {
  const port = integer(env, "DEADBOLT_MANAGEMENT_PORT", 0, 65535);
  const host = read(env, "DEADBOLT_MANAGEMENT_HOST").trim();
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) fail("DEADBOLT_MANAGEMENT_HOST", host, "a host name or IP address");
  return port === 0 ? null : Object.freeze({ host, port });
}

function email(env: Env, name: string): string | null {
  const text = optional(env, name);
  if (text === null) return null;
  if (!/^[^\s@]+@[^\s@]+$/.test(text)) fail(name, text, "an e-mail address");
  return text.toLowerCase();
}

/**
 * Reads every DEADBOLT_* variable once into a typed, frozen object.
 * Throws a ConfigError whose message is one line naming the variable and what it accepts.
 *
 * @example const config = loadConfig(process.env);
 */
export function loadConfig(env: Env): Config {
  const databaseUrlValue = databaseUrl(env);
  const backoffText = read(env, "DEADBOLT_LOCKOUT_BACKOFF").trim();
  const backoff = Number(backoffText);
  if (!/^\d+(\.\d+)?$/.test(backoffText) || backoff < 1 || backoff > 100) {
    fail("DEADBOLT_LOCKOUT_BACKOFF", backoffText, "a number from 1 to 100 (1 = no backoff)");
  }
  const durationMs = duration(env, "DEADBOLT_LOCKOUT_DURATION");
  const maxDurationMs = duration(env, "DEADBOLT_LOCKOUT_MAX_DURATION");
  if (maxDurationMs < durationMs) {
    fail("DEADBOLT_LOCKOUT_MAX_DURATION", read(env, "DEADBOLT_LOCKOUT_MAX_DURATION"),
      "a duration at least DEADBOLT_LOCKOUT_DURATION");
  }
  const message = read(env, "DEADBOLT_LOGIN_FAILURE_MESSAGE").trim();
  const redisUrl = optional(env, "DEADBOLT_REDIS_URL");
  const trustProxy = parseTrustProxy(optional(env, "DEADBOLT_TRUST_PROXY"));
  if (trustProxy === null) {
    fail("DEADBOLT_TRUST_PROXY", env.DEADBOLT_TRUST_PROXY ?? "", "a hop count (1-100) or a comma-separated list of proxy addresses or CIDRs");
  }
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) fail("DEADBOLT_REDIS_URL", redisUrl, "redis://…");
  const smtpUrl = optional(env, "DEADBOLT_SMTP_URL");
  if (smtpUrl !== null && !/^smtps?:\/\//.test(smtpUrl)) fail("DEADBOLT_SMTP_URL", smtpUrl, "smtp://… or smtps://…");

  const port = integer(env, "DEADBOLT_PORT", 0, 65535);
  const publicUrlSet = optional(env, "DEADBOLT_PUBLIC_URL") !== null;
  // With only DEADBOLT_PORT set, links in mails point at that port rather than at 3000.
  const publicUrl = publicUrlSet || port === 0
    ? url(env, "DEADBOLT_PUBLIC_URL", ["http:", "https:"])
    : `http://localhost:${port}`;
  const appName = read(env, "DEADBOLT_APP_NAME").trim();
  // eslint-disable-next-line no-control-regex
  if (appName === "" || appName.length > APP_NAME_MAX_LENGTH || /[\u0000-\u001f\u007f:]/.test(appName)) {
    fail("DEADBOLT_APP_NAME", appName, `a name of 1 to ${APP_NAME_MAX_LENGTH} characters, without a colon or control characters`);
  }

  const config: Config = {
    databaseUrl: databaseUrlValue,
    host: read(env, "DEADBOLT_HOST").trim(),
    port,
    management: management(env),
    publicUrl,
    publicUrlSet,
    appName,
    lockout: Object.freeze({
      threshold: integer(env, "DEADBOLT_LOCKOUT_THRESHOLD", 0, 1000),
      windowMs: duration(env, "DEADBOLT_LOCKOUT_WINDOW"),
      durationMs,
      backoff,
      maxDurationMs,
      disableAfter: integer(env, "DEADBOLT_LOCKOUT_DISABLE_AFTER", 0, 1000),
      adminThreshold: integer(env, "DEADBOLT_ADMIN_LOCKOUT_THRESHOLD", 0, 1000),
      mfaThreshold: integer(env, "DEADBOLT_MFA_THRESHOLD", 1, 1000),
      mfaAction: oneOf(env, "DEADBOLT_MFA_LOCKOUT_ACTION", ["lock", "disable"] as const),
    }),
    disclosure: oneOf(env, "DEADBOLT_LOCKOUT_DISCLOSURE", ["generic", "informative"] as const),
    loginFailureMessage: message === "" ? DEFAULT_LOGIN_FAILURE_MESSAGE : message,
    secretKey: secretKey(env, databaseUrlValue.startsWith("postgres")),
    emergencyUnlock: email(env, "DEADBOLT_EMERGENCY_UNLOCK"),
    smtpUrl,
    mailFrom: read(env, "DEADBOLT_MAIL_FROM").trim(),
    notifyMaxPerHour: integer(env, "DEADBOLT_NOTIFY_MAX_PER_HOUR", 0, 1000),
    resetMaxPerHour: integer(env, "DEADBOLT_RESET_MAX_PER_HOUR", 0, 1000),
    notifyNewDevice: boolean(env, "DEADBOLT_NOTIFY_NEW_DEVICE"),
    warnBeforeLock: boolean(env, "DEADBOLT_WARN_BEFORE_LOCK"),
    logLevel: oneOf(env, "DEADBOLT_LOG_LEVEL",
      ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const),
    throttlePerMinute: integer(env, "DEADBOLT_THROTTLE_PER_MINUTE", 0, 1_000_000),
    trustProxy,
    redisUrl,
    sessionIdleMs: duration(env, "DEADBOLT_SESSION_IDLE_TIMEOUT"),
    sessionMaxAgeMs: duration(env, "DEADBOLT_SESSION_MAX_AGE"),
    deviceTrust: oneOf(env, "DEADBOLT_DEVICE_TRUST", ["on", "off"] as const) === "on",
    eventRetentionMs: retention(env),
    // NIST SP 800-63B-4: never fewer than 8; longer than PASSWORD_MAX_LENGTH could never be met.
    passwordMinLength: integer(env, "DEADBOLT_PASSWORD_MIN_LENGTH", 8, 256),
    breachedPasswords: oneOf(env, "DEADBOLT_BREACHED_PASSWORDS", ["off", "hibp"] as const),
    hibpUrl: url(env, "DEADBOLT_HIBP_URL", ["http:", "https:"]),
  };
  return Object.freeze(config);
}

function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, extra] = entry.split("/");
  if (extra !== undefined || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Parses DEADBOLT_TRUST_PROXY: unset → the socket address is the client; a number → that many
 * proxy hops are believed; else a comma-separated list of proxy addresses or CIDRs. Returns
 * null when the value is not one of these (the caller reports it).
 */
function parseTrustProxy(value: string | null): TrustProxy | null {
  if (value === null || value.trim() === "") return false;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    return hops >= 1 && hops <= 100 ? hops : null;
  }
  const entries = text.split(",").map((e) => e.trim()).filter((e) => e !== "");
  if (entries.length === 0 || !entries.every(isAddressOrCidr)) return null;
  return Object.freeze(entries);
}

/** The port a URL points at, written or implied by its scheme. */
function portOf(address: string): number {
  const parsed = new URL(address);
  return parsed.port === "" ? (parsed.protocol === "https:" ? 443 : 80) : Number(parsed.port);
}

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * A warning when DEADBOLT_PUBLIC_URL's port is not the one the server listens on: links in
 * mails would then lead nowhere, unless a proxy forwards that port (say so if it does).
 */
export function publicUrlWarning(config: Config, listeningPort: number): string | null {
  const linked = portOf(config.publicUrl);
  if (linked === listeningPort) return null;
  const host = new URL(config.publicUrl).hostname;
  const local = LOOPBACK_HOSTS.has(host) || LOOPBACK_HOSTS.has(`[${host}]`);
  return `DEADBOLT_PUBLIC_URL=${config.publicUrl} points at port ${linked}, but the server listens on port ${listeningPort}: ` +
    (local ? "links in e-mails will not reach it; set DEADBOLT_PUBLIC_URL to this server's address"
      : "links in e-mails work only if a proxy forwards that address here");
}

/** Warnings an operator should see at start-up (logged, not fatal). */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.lockout.threshold === 0) {
    warnings.push("DEADBOLT_LOCKOUT_THRESHOLD=0: accounts will never lock after failed passwords");
  }
  if (config.lockout.adminThreshold === 0) {
    warnings.push("DEADBOLT_ADMIN_LOCKOUT_THRESHOLD=0: admin accounts will never lock after failed passwords");
  }
  if (config.disclosure === "informative") {
    warnings.push("DEADBOLT_LOCKOUT_DISCLOSURE=informative: login answers reveal which accounts exist and are locked");
  }
  return warnings;
}
