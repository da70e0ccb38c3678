import { isMultiLine } from "../text.ts";
import { changeRole, CLI_ACTOR, deleteUser, DISABLE_NOTE_MAX_LENGTH, disableUser, inviteUser, isValidEmail, resetMfa } from "../auth/index.ts";
import type { Runtime } from "../runtime.ts";
import { listNotices, normalizeEmail } from "../store/index.ts";
import { flag, text } from "./args.ts";
import { JSON_OPTION, withRuntime, type Command } from "./command.ts";
import { CliError, UsageError } from "./errors.ts";
import { quietLogger, type Io } from "./io.ts";
import { createTransport, startDispatcher } from "../notify/index.ts";
import { findOrFail, JSON_HELP, report, viewOf } from "./user-lookup.ts";

const LAST_ADMIN = "is the last active admin; make another user an admin first";

/**
 * Sends the mails just queued, as a server's dispatcher would (leases keep a running server
 * from sending them twice). Without DEADBOLT_SMTP_URL the mail, link included, is written to
 * stderr, where the operator who typed the command reads it.
 */
async function sendNow(runtime: Runtime, io: Io, to: string): Promise<string> {
  const { config, auth } = runtime;
  const mailLog = {
    info: (_fields: object, message?: string) => { io.stderr.write(`${message ?? ""}\n`); },
    warn: quietLogger(io).warn,
    error: quietLogger(io).error,
  };
  const transport = createTransport(config, mailLog);
  const dispatcher = startDispatcher({
    database: auth.database, transport, now: auth.now, log: quietLogger(io), publicUrl: config.publicUrl,
    from: config.mailFrom, appName: config.appName, intervalMs: 0, owner: auth.instance,
  });
  try {
    // The dispatcher starts draining at once; this waits for that drain too.
    await dispatcher.drain();
    const sent = (await listNotices(auth.database.db, { to, kind: "invitation" })).at(-1)?.status === "sent";
    if (!sent) return "the mail could not be sent now; a running server retries it";
    return config.smtpUrl === null ? "DEADBOLT_SMTP_URL is not set, so the mail is printed on stderr" : "the mail was sent";
  } finally {
    await dispatcher.stop();
    transport.close();
  }
}

const invite: Command = {
  name: "user invite",
  synopsis: "<email> [--admin] [--json]",
  summary: "create a user without a password and mail them a single-use link (7 days) to set one",
  details: ["--admin         give the user the admin role", JSON_HELP],
  options: { admin: { type: "boolean" }, ...JSON_OPTION },
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const email = normalizeEmail(positionals[0] as string);
    if (!isValidEmail(email)) throw new CliError(`${email} is not a valid e-mail address`);
    const role = flag(values, "admin") ? "admin" : "user";
    const result = await inviteUser(runtime.auth, { email, role }, CLI_ACTOR);
    if (!result.ok) throw new CliError(result.error === "email_taken" ? `a user with e-mail ${email} already exists` : result.message);
    const mailed = await sendNow(runtime, io, email);
    return report(io, values, await viewOf(runtime, result.user), `invited ${role} ${email}: ${mailed}`);
  }),
};

const role: Command = {
  name: "user role",
  synopsis: "<email> admin|user [--json]",
  summary: "make a user an admin or a plain user (never demotes the last active admin)",
  details: [JSON_HELP],
  options: JSON_OPTION,
  args: ["email", "role"],
  run: (io, { values, positionals }) => {
    const wanted = positionals[1];
    if (wanted !== "admin" && wanted !== "user") throw new UsageError(`role must be admin or user, not ${JSON.stringify(wanted)}`);
    return withRuntime(io, async (runtime) => {
      const row = await findOrFail(runtime, positionals[0] as string);
      const result = await changeRole(runtime.auth, row.id, wanted, CLI_ACTOR);
      if (!result.ok) {
        throw new CliError(result.error === "last_admin" ? `${row.email} ${LAST_ADMIN}` : `no user with e-mail ${row.email}`);
      }
      const what = row.role === wanted ? `already ${wanted}` : `role changed from ${row.role} to ${wanted}`;
      return report(io, values, await viewOf(runtime, result.user), `${row.email}: ${what}`);
    });
  },
};

const remove: Command = {
  name: "user delete",
  synopsis: "<email>",
  summary: "delete a user for good (the event log keeps the e-mail; never the last active admin)",
  details: [],
  options: {},
  args: ["email"],
  run: (io, { positionals }) => withRuntime(io, async (runtime) => {
    const row = await findOrFail(runtime, positionals[0] as string);
    const result = await deleteUser(runtime.auth, row.id, CLI_ACTOR);
    if (!result.ok) {
      throw new CliError(result.error === "last_admin" ? `${row.email} ${LAST_ADMIN}` : `no user with e-mail ${row.email}`);
    }
    io.stdout.write(`${row.email}: deleted (with its sessions and tokens); its events stay in the log\n`);
    return 0;
  }),
};

const resetMfaCommand: Command = {
  name: "user reset-mfa",
  synopsis: "<email> [--json]",
  summary: "turn off a user's two-step verification (lost phone): removes TOTP and recovery codes, ends sessions, mails the user",
  details: [JSON_HELP],
  options: JSON_OPTION,
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const row = await findOrFail(runtime, positionals[0] as string);
    const result = await resetMfa(runtime.auth, row.id, CLI_ACTOR);
    if (!result.ok) throw new CliError(`no user with e-mail ${row.email}`);
    const had = row.mfa_enabled === 1 || row.totp_pending_secret !== null;
    return report(io, values, await viewOf(runtime, result.user), had
      ? `${row.email}: two-step verification turned off; recovery codes deleted, sessions ended, the user will be mailed`
      : `${row.email}: had no two-step verification; nothing changed`);
  }),
};

const disable: Command = {
  name: "user disable",
  synopsis: "<email> [--note <text>] [--json]",
  summary: "disable a user and end their sessions (never the last active admin)",
  details: [`--note <text>   why (up to ${DISABLE_NOTE_MAX_LENGTH} characters), kept in the event`, JSON_HELP],
  options: { note: { type: "string" }, ...JSON_OPTION },
  args: ["email"],
  run: (io, { values, positionals }) => {
    const note = text(values, "note");
    if (note !== undefined && note.length > DISABLE_NOTE_MAX_LENGTH) {
      throw new UsageError(`--note is longer than ${DISABLE_NOTE_MAX_LENGTH} characters`);
    }
    // The API's rule (NoteField): an escape sequence kept in the event would reach an admin's terminal.
    if (note !== undefined && !isMultiLine(note)) {
      throw new UsageError("--note must not contain control characters (other than tab and line breaks)");
    }
    return withRuntime(io, async (runtime) => {
      const row = await findOrFail(runtime, positionals[0] as string);
      const result = await disableUser(runtime.auth, row.id, CLI_ACTOR, { note });
      if (!result.ok) {
        if (result.error === "last_admin") {
          throw new CliError(`${row.email} is the last active admin and cannot be disabled; create or enable another admin first`);
        }
        throw new CliError(`no user with e-mail ${row.email}`);
      }
      const what = row.disabled_reason === null ? "disabled; sessions ended" : `already disabled (${row.disabled_reason})`;
      return report(io, values, await viewOf(runtime, result.user), `${result.user.email}: ${what}`);
    });
  },
};

export const LIFECYCLE_COMMANDS: readonly Command[] = [invite, role, remove, resetMfaCommand];
/** Replaces the plain `user disable`, adding --note. */
export const DISABLE_COMMAND: Command = disable;
