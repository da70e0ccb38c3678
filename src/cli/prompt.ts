import { StringDecoder } from "node:string_decoder";
import type { PasswordVerdict } from "../auth/index.ts";
import { CliError } from "./errors.ts";
import type { Input, Io } from "./io.ts";

/**
 * Reads one line from `input`: the newline (`\n` or `\r\n`) is not part of it, and nothing
 * after it is read. Resolves null when the input ends before any byte.
 */
export function readLine(input: Input): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      input.removeListener("error", onError);
      input.pause();
      // Nothing more is read: release the input, or an open pipe would keep the process alive.
      (input as { destroy?: () => void }).destroy?.();
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
      const newline = bytes.indexOf(0x0a);
      chunks.push(newline === -1 ? bytes : bytes.subarray(0, newline));
      size += bytes.length;
      if (newline === -1) return;
      cleanup();
      resolve(Buffer.concat(chunks).toString("utf8").replace(/\r$/, ""));
    };
    const onEnd = (): void => {
      cleanup();
      resolve(size === 0 ? null : Buffer.concat(chunks).toString("utf8"));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    input.on("data", onData);
    input.on("end", onEnd);
    input.on("error", onError);
  });
}

const ENTER = new Set(["\r", "\n"]);
const ERASE = new Set(["\x7f", "\b"]);
const CTRL_C = "\x03";
const CTRL_D = "\x04";

export interface SecretReader {
  /** Writes `question` to stderr and reads one line without echoing it. */
  read(question: string): Promise<string>;
}

/** Reads secrets from a terminal with echo off (raw mode), keeping typed-ahead input between reads. */
export function createSecretReader(io: Io): SecretReader {
  const decoder = new StringDecoder("utf8");
  let typedAhead: string[] = [];

  const read = (question: string): Promise<string> => new Promise((resolve, reject) => {
    const input = io.stdin;
    const typed: string[] = [];
    const finish = (error: CliError | null): void => {
      input.removeListener("data", onData);
      input.removeListener("end", onEnd);
      input.setRawMode?.(false);
      input.pause();
      io.stderr.write("\n");
      if (error) reject(error);
      else resolve(typed.join(""));
    };
    // Returns true when the line is complete (or cancelled).
    const consume = (chars: string[]): boolean => {
      for (let i = 0; i < chars.length; i++) {
        const char = chars[i] as string;
        if (ENTER.has(char)) {
          typedAhead = chars.slice(i + 1);
          finish(null);
          return true;
        }
        if (char === CTRL_C || (char === CTRL_D && typed.length === 0)) {
          typedAhead = [];
          finish(new CliError("cancelled; nothing was changed"));
          return true;
        }
        if (ERASE.has(char)) typed.pop();
        else if (char >= " ") typed.push(char);
      }
      return false;
    };
    const onData = (chunk: Buffer | string): void => {
      consume(Array.from(typeof chunk === "string" ? chunk : decoder.write(chunk)));
    };
    const onEnd = (): void => finish(new CliError("no password was entered; nothing was changed"));

    io.stderr.write(question);
    const pending = typedAhead;
    typedAhead = [];
    if (consume(pending)) return;
    input.setRawMode?.(true);
    input.on("data", onData);
    input.on("end", onEnd);
    input.resume();
  });

  return { read };
}

export type PasswordSource = "stdin" | "terminal";

export interface NewPasswordOptions {
  /**
   * The password policy's own rules for this user; on a terminal they run before the password
   * is asked again (the breach API is asked once, when the password is set).
   */
  readonly check: (password: string) => Promise<PasswordVerdict>;
}

/**
 * The new password for `user create` / `user reset-password`: one line of standard input, or
 * typed twice on a terminal with echo off (a mismatch changes nothing).
 */
export async function readNewPassword(io: Io, source: PasswordSource, options: NewPasswordOptions): Promise<string> {
  if (source === "stdin") {
    const line = await readLine(io.stdin);
    if (line === null) throw new CliError("--password-stdin: standard input is empty; write the password as one line");
    return line;
  }
  if (!io.isTTY) {
    throw new CliError("standard input is not a terminal: pass --password-stdin and write the password as one line");
  }
  const reader = createSecretReader(io);
  const first = await reader.read("New password: ");
  const verdict = await options.check(first);
  if (!verdict.ok) throw new CliError(`the password ${verdict.reason}; nothing was changed`);
  const second = await reader.read("Repeat the password: ");
  if (first !== second) throw new CliError("the two passwords do not match; nothing was changed");
  return first;
}
