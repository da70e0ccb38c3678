import type { ParseArgsOptionsConfig } from "node:util";
import { loadConfig } from "../config.ts";
import { createRuntime, type Runtime } from "../runtime.ts";
import { flag, type Parsed, type Values } from "./args.ts";
import { quietLogger, type Io } from "./io.ts";

/** One CLI command: its usage, its strict options, and what it does. */
export interface Command {
  /** As typed, e.g. "user show". */
  readonly name: string;
  /** What follows the name in the usage line, e.g. "<email> [--json]". */
  readonly synopsis: string;
  readonly summary: string;
  /** Lines explaining the options, shown by --help. */
  readonly details: readonly string[];
  readonly options: ParseArgsOptionsConfig;
  /** Names of the required positionals, in order. */
  readonly args: readonly string[];
  run(io: Io, parsed: Parsed): Promise<number>;
}

/**
 * Loads the configuration from the environment (the same variables as the server), opens and
 * migrates the database, and closes it whatever happens.
 */
export async function withRuntime<T>(io: Io, use: (runtime: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const runtime = await createRuntime(config, { log: quietLogger(io) });
  try {
    return await use(runtime);
  } finally {
    await runtime.close();
  }
}

export function writeJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** The `--json` flag most commands take. */
export const JSON_OPTION = { json: { type: "boolean" } } as const;

/**
 * A command's result: `json` as JSON with `--json`, else the text (lines ending in a newline,
 * built only when printed). Returns the exit code, 0.
 */
export function printResult(io: Io, values: Values, json: unknown, text: () => string): number {
  if (flag(values, "json")) writeJson(io, json);
  else io.stdout.write(text());
  return 0;
}
