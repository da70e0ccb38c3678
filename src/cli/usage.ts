import type { Command } from "./command.ts";

function line(command: Command): string {
  return `deadbolt ${command.name}${command.synopsis === "" ? "" : ` ${command.synopsis}`}`;
}

/** The short usage printed under a usage error (stderr). */
export function shortUsage(command: Command): string {
  return `usage: ${line(command)}\nRun "deadbolt ${command.name} --help" for details.\n`;
}

/** `deadbolt <command> --help` (stdout). */
export function commandHelp(command: Command): string {
  const details = command.details.length === 0 ? "" : `\n${command.details.map((text) => `  ${text}\n`).join("")}`;
  return `usage: ${line(command)}\n\n${command.summary}\n${details}  -h, --help  show this help\n`;
}

/** The list of commands, for `deadbolt --help`, `deadbolt user --help` and usage errors. */
export function overview(commands: readonly Command[]): string {
  const entries = commands.map((command) => `  ${line(command).slice("deadbolt ".length)}\n      ${command.summary}\n`);
  return [
    "usage: deadbolt <command> [options]\n\ncommands:\n",
    ...entries,
    "\nSettings come from the same DEADBOLT_* environment variables as the server\n",
    "(DEADBOLT_DATABASE_URL defaults to sqlite:./data/deadbolt.db).\n",
    "Exit status: 0 ok, 1 error, 2 usage error. \"deadbolt <command> --help\" shows its options.\n",
  ].join("");
}

/** The command names on a few lines, printed under a usage error that names no command. */
export function commandList(commands: readonly Command[]): string {
  const names: string[] = [];
  for (const command of commands) {
    const [group, sub] = command.name.split(" ");
    const previous = names.at(-1);
    if (sub !== undefined && previous?.startsWith(`${group} `)) names[names.length - 1] = `${previous}|${sub}`;
    else names.push(command.name);
  }
  return `usage: deadbolt <command> [options]\ncommands: ${names.join(", ")}\nRun "deadbolt --help" for details.\n`;
}
