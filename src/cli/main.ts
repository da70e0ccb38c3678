import { parseCommand } from "./args.ts";
import type { Command } from "./command.ts";
import { CLIENT_COMMANDS } from "./commands-client.ts";
import { DEVICE_COMMANDS } from "./commands-devices.ts";
import { EVENTS_COMMAND } from "./commands-events.ts";
import { IMPORT_COMMAND } from "./commands-import.ts";
import { SERVER_COMMANDS } from "./commands-server.ts";
import { USER_COMMANDS } from "./commands-user.ts";
import { CliError, describeError, UsageError } from "./errors.ts";
import { processIo, type Io } from "./io.ts";
import { commandHelp, commandList, overview, shortUsage } from "./usage.ts";

export type { Io } from "./io.ts";

const COMMANDS: readonly Command[] = [
  ...SERVER_COMMANDS, ...USER_COMMANDS, ...DEVICE_COMMANDS, IMPORT_COMMAND, EVENTS_COMMAND, ...CLIENT_COMMANDS,
];
const HELP = new Set(["--help", "-h"]);

interface Resolved {
  readonly command: Command;
  readonly rest: readonly string[];
}

/** Finds the command named by the first one or two words; a usage error otherwise. */
function resolve(argv: readonly string[]): Resolved | { readonly help: readonly Command[] } {
  const [first, second] = argv;
  if (first === undefined) throw new UsageError("missing command");
  if (HELP.has(first)) return { help: COMMANDS };
  if (first === "help") {
    const topic = argv.slice(1).join(" ");
    const commands = COMMANDS.filter((command) => topic === "" || command.name === topic || command.name.startsWith(`${topic} `));
    if (commands.length === 0) throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
    return { help: commands };
  }
  const group = COMMANDS.filter((command) => command.name.startsWith(`${first} `));
  if (group.length === 0) {
    const command = COMMANDS.find((candidate) => candidate.name === first);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
    return { command, rest: argv.slice(1) };
  }
  if (second !== undefined && HELP.has(second)) return { help: group };
  if (second === undefined) throw new UsageError(`missing ${first} command`);
  const command = group.find((candidate) => candidate.name === `${first} ${second}`);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(`${first} ${second}`)}`);
  return { command, rest: argv.slice(2) };
}

/**
 * The `deadbolt` command line. Returns the exit status: 0 ok, 1 error (one line on stderr),
 * 2 usage error (the problem and a short usage on stderr).
 *
 * @example process.exitCode = await main(process.argv.slice(2));
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let command: Command | undefined;
  try {
    const resolved = resolve(argv);
    if ("help" in resolved) {
      io.stdout.write(resolved.help.length === 1 ? commandHelp(resolved.help[0] as Command) : overview(resolved.help));
      return 0;
    }
    command = resolved.command;
    const parsed = parseCommand(resolved.rest, command.options, command.args);
    if (parsed.values.help === true) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    return await command.run(io, parsed);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`deadbolt: ${error.message}\n${command === undefined ? commandList(COMMANDS) : shortUsage(command)}`);
      return error.exitCode;
    }
    io.stderr.write(`deadbolt: ${describeError(error)}\n`);
    if (!(error instanceof CliError) && ["debug", "trace"].includes(io.env.DEADBOLT_LOG_LEVEL ?? "")) {
      io.stderr.write(`${(error as Error).stack ?? ""}\n`);
    }
    return error instanceof CliError ? error.exitCode : 1;
  }
}
