import { readFile } from "node:fs/promises";
import { CLI_ACTOR, importUsers } from "../auth/index.ts";
import { flag } from "./args.ts";
import { JSON_OPTION, withRuntime, writeJson, type Command } from "./command.ts";
import { CliError } from "./errors.ts";

async function readImportFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CliError(code === "ENOENT" ? `no such file: ${path}` : `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** `deadbolt user import <file.jsonl> [--dry-run] [--json]` (SPEC "Import"). */
export const IMPORT_COMMAND: Command = {
  name: "user import",
  synopsis: "<file.jsonl> [--dry-run] [--json]",
  summary: "import users from JSON lines {email, passwordHash?, role?, createdAt?}; all lines valid or nothing",
  details: [
    "passwordHash  argon2id/argon2i (PHC) or bcrypt ($2a$, $2b$, $2y$); upgraded to argon2id",
    "              at the user's next successful login; omit it and the user resets the password",
    "role          user (default) or admin;  createdAt  ISO 8601, e.g. 2024-05-01T12:00:00Z",
    "Existing e-mails are skipped and counted. Problems are listed as \"line N: …\" on stderr.",
    "--dry-run     only validate and count; nothing is written",
    "--json        print {imported, skipped, invalid, dryRun, problems} as JSON",
  ],
  options: { "dry-run": { type: "boolean" }, ...JSON_OPTION },
  args: ["file.jsonl"],
  run: async (io, { values, positionals }) => {
    const path = positionals[0] as string;
    const text = await readImportFile(path);
    const dryRun = flag(values, "dry-run");
    return withRuntime(io, async (runtime) => {
      const result = await importUsers(runtime.auth, text, { dryRun, actor: CLI_ACTOR });
      const counts = `imported ${result.imported}, skipped ${result.skipped}, invalid ${result.invalid}`;
      if (flag(values, "json")) {
        writeJson(io, {
          imported: result.imported, skipped: result.skipped, invalid: result.invalid, dryRun,
          problems: result.ok ? [] : result.problems,
        });
      } else {
        io.stdout.write(dryRun && result.ok ? `dry run, nothing written: ${counts}\n` : `${counts}\n`);
      }
      if (result.ok) return 0;
      for (const problem of result.problems) io.stderr.write(`line ${problem.line}: ${problem.message}\n`);
      const more = result.invalid > result.problems.length ? ` (the first ${result.problems.length} are listed)` : "";
      throw new CliError(`${result.invalid} invalid line${result.invalid === 1 ? "" : "s"} in ${path}${more}; nothing was imported`);
    });
  },
};
