import { ConfigError } from "../config.ts";
import { oneLine } from "./io.ts";

/** A failure the operator can act on: exit 1 with `message` as the one line on stderr. */
export class CliError extends Error {
  readonly exitCode: number = 1;
}

/** A bad invocation (unknown flag, missing argument): exit 2 with a short usage. */
export class UsageError extends CliError {
  override readonly exitCode: number = 2;
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** One line describing any thrown value, including the empty-message AggregateError of `pg`. */
export function describeError(error: unknown): string {
  if (error instanceof ConfigError || error instanceof CliError) return oneLine(error.message);
  if (error instanceof AggregateError && error.message === "" && error.errors.length > 0) {
    return describeError(error.errors[0]);
  }
  if (error instanceof Error) {
    const code = codeOf(error);
    const message = oneLine(error.message) || code || error.name;
    if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "ETIMEDOUT") {
      return `cannot reach the database: ${message}`;
    }
    return message;
  }
  return oneLine(String(error));
}
