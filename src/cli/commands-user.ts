import {
  checkLocally, CLI_ACTOR, createUser, enableUser, isValidEmail, resetPassword, userViews, unlockUser, type UserView,
} from "../auth/index.ts";
import { findUserByEmail, listUsers, normalizeEmail, type StatusFilter } from "../store/index.ts";
import { flag } from "./args.ts";
import { JSON_OPTION, printResult, withRuntime, type Command } from "./command.ts";
import { DISABLE_COMMAND, LIFECYCLE_COMMANDS } from "./commands-lifecycle.ts";
import { CliError, UsageError } from "./errors.ts";
import { shortTime, userDetails, userTable } from "./output.ts";
import { readNewPassword } from "./prompt.ts";
import { findOrFail, JSON_HELP, report, viewOf } from "./user-lookup.ts";

function stillDisabled(user: UserView): string {
  return user.status === "disabled"
    ? `; still disabled (${user.disabledReason ?? "unknown"}): run "deadbolt user enable ${user.email}"`
    : "";
}

const create: Command = {
  name: "user create",
  synopsis: "<email> [--admin] [--password-stdin] [--json]",
  summary: "create a user (prompts twice for the password on a terminal)",
  details: [
    "--admin           give the user the admin role",
    "--password-stdin  read the password as one line from standard input",
    "--json            print the created user as JSON",
  ],
  options: { admin: { type: "boolean" }, "password-stdin": { type: "boolean" }, ...JSON_OPTION },
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const email = normalizeEmail(positionals[0] as string);
    // Fail before asking for a password that could not be used.
    if (!isValidEmail(email)) throw new CliError(`${email} is not a valid e-mail address`);
    if (await findUserByEmail(runtime.auth.database.db, email)) throw new CliError(`a user with e-mail ${email} already exists`);
    const password = await readNewPassword(io, flag(values, "password-stdin") ? "stdin" : "terminal", {
      check: (candidate) => checkLocally(runtime.auth, candidate, { email, user: null }),
    });
    const role = flag(values, "admin") ? "admin" : "user";
    const result = await createUser(runtime.auth, { email, password, role }, CLI_ACTOR);
    if (!result.ok) {
      throw new CliError(result.error === "email_taken" ? `a user with e-mail ${email} already exists`
        : result.error === "weak_password" ? `the ${result.message}; nothing was changed` : result.message);
    }
    const user = await viewOf(runtime, result.user);
    return printResult(io, values, user, () => `created ${role} ${user.email}\n${userDetails(user)}`);
  }),
};

const show: Command = {
  name: "user show",
  synopsis: "<email> [--json]",
  summary: "show a user's status, lock and failure counters",
  details: [JSON_HELP],
  options: JSON_OPTION,
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const user = await viewOf(runtime, await findOrFail(runtime, positionals[0] as string));
    return printResult(io, values, user, () => userDetails(user));
  }),
};

const list: Command = {
  name: "user list",
  synopsis: "[--locked|--disabled] [--json]",
  summary: "list users by e-mail",
  details: [
    "--locked    only users locked now",
    "--disabled  only disabled users",
    "--json      print a JSON array of users (the HTTP API's fields)",
  ],
  options: { locked: { type: "boolean" }, disabled: { type: "boolean" }, ...JSON_OPTION },
  args: [],
  run: (io, { values }) => {
    if (flag(values, "locked") && flag(values, "disabled")) throw new UsageError("--locked and --disabled cannot be combined");
    const status: StatusFilter | undefined = flag(values, "locked") ? "locked" : flag(values, "disabled") ? "disabled" : undefined;
    return withRuntime(io, async (runtime) => {
      const now = runtime.auth.now();
      const rows = await listUsers(runtime.auth.database.db, { status, now });
      const users = await userViews(runtime.auth, rows);
      return printResult(io, values, users, () => users.length > 0 ? userTable(users) : `no ${status === undefined ? "" : `${status} `}users\n`);
    });
  },
};

const unlock: Command = {
  name: "user unlock",
  synopsis: "<email> [--json]",
  summary: "clear a temporary lock and the failure counters (audited as by: cli)",
  details: [JSON_HELP],
  options: JSON_OPTION,
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const row = await findOrFail(runtime, positionals[0] as string);
    const before = await viewOf(runtime, row);
    const result = await unlockUser(runtime.auth, row.id, CLI_ACTOR);
    if (!result.ok) throw new CliError(`no user with e-mail ${row.email}`);
    const after = await viewOf(runtime, result.user);
    const what = before.status === "locked"
      ? `unlocked (was locked until ${shortTime(before.lockedUntil)})`
      : "was not locked; failure counters reset";
    return report(io, values, after, `${after.email}: ${what}${stillDisabled(after)}`);
  }),
};

const enable: Command = {
  name: "user enable",
  synopsis: "<email> [--json]",
  summary: "re-enable a disabled user (also clears any lock and failure counters)",
  details: [JSON_HELP],
  options: JSON_OPTION,
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const row = await findOrFail(runtime, positionals[0] as string);
    const result = await enableUser(runtime.auth, row.id, CLI_ACTOR);
    if (!result.ok) throw new CliError(`no user with e-mail ${row.email}`);
    const what = row.disabled_reason === null
      ? "was not disabled; any lock and failure counters cleared"
      : `enabled (was disabled: ${row.disabled_reason})`;
    return report(io, values, await viewOf(runtime, result.user), `${result.user.email}: ${what}`);
  }),
};

const resetPasswordCommand: Command = {
  name: "user reset-password",
  synopsis: "<email> --password-stdin [--json]",
  summary: "set a new password: clears a temporary lock (not a disable) and ends every session",
  details: [
    "--password-stdin  read the password as one line from standard input",
    "                  (without it, prompts twice on a terminal)",
    JSON_HELP,
  ],
  options: { "password-stdin": { type: "boolean" }, ...JSON_OPTION },
  args: ["email"],
  run: (io, { values, positionals }) => withRuntime(io, async (runtime) => {
    const row = await findOrFail(runtime, positionals[0] as string);
    const before = await viewOf(runtime, row);
    const password = await readNewPassword(io, flag(values, "password-stdin") ? "stdin" : "terminal", {
      check: (candidate) => checkLocally(runtime.auth, candidate, { email: row.email, user: row }),
    });
    const result = await resetPassword(runtime.auth, row.id, password, CLI_ACTOR);
    if (!result.ok) {
      throw new CliError(result.error === "weak_password"
        ? `the password ${result.reason}; nothing was changed`
        : `no user with e-mail ${row.email}`);
    }
    const after = await viewOf(runtime, result.user);
    const unlocked = before.status === "locked" ? "; lock cleared" : "";
    return report(io, values, after, `${after.email}: password reset; sessions ended${unlocked}${stillDisabled(after)}`);
  }),
};

export const USER_COMMANDS: readonly Command[] = [
  create, show, list, unlock, enable, DISABLE_COMMAND, resetPasswordCommand, ...LIFECYCLE_COMMANDS,
];
