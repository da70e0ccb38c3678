import { userView, type UserView } from "../auth/index.ts";
import type { Runtime } from "../runtime.ts";
import { findUserByEmail, normalizeEmail, type UserRow } from "../store/index.ts";
import type { Values } from "./args.ts";
import { printResult } from "./command.ts";
import { CliError } from "./errors.ts";
import type { Io } from "./io.ts";

/** What `--json` prints for the `user …` commands. */
export const JSON_HELP = "--json          print the user as JSON (the HTTP API's fields)";

export function viewOf(runtime: Runtime, row: UserRow): Promise<UserView> {
  return userView(runtime.auth, row);
}

/** The user with this e-mail (normalized as at sign-in), or a CliError naming it. */
export async function findOrFail(runtime: Runtime, email: string): Promise<UserRow> {
  const row = await findUserByEmail(runtime.auth.database.db, normalizeEmail(email));
  if (!row) throw new CliError(`no user with e-mail ${normalizeEmail(email)}`);
  return row;
}

/** The result of a change: one line saying what happened, or the user as JSON. */
export function report(io: Io, values: Values, user: UserView, line: string): number {
  return printResult(io, values, user, () => `${line}\n`);
}
