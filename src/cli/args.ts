import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { UsageError } from "./errors.ts";

export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: readonly string[];
}

function firstSentence(message: string): string {
  const end = message.indexOf(". ");
  return end === -1 ? message : message.slice(0, end);
}

/**
 * Strict `parseArgs` plus a count of positionals; every mistake becomes a UsageError (exit 2).
 * `required` names the positionals, e.g. ["email"]. `--help`/`-h` is accepted by every command.
 */
export function parseCommand(
  argv: readonly string[], options: ParseArgsOptionsConfig, required: readonly string[],
): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      throw new UsageError(firstSentence((error as Error).message));
    }
    throw error;
  }
  const values = parsed.values as Values;
  if (values.help !== true) {
    const missing = required[parsed.positionals.length];
    if (missing !== undefined) throw new UsageError(`missing <${missing}>`);
    const extra = parsed.positionals[required.length];
    if (extra !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(extra)}`);
  }
  return { values, positionals: parsed.positionals };
}

export function flag(values: Values, name: string): boolean {
  return values[name] === true;
}

export function text(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}
