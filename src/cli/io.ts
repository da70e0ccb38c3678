import type { Logger } from "../auth/index.ts";

/** Standard input as the CLI needs it: a byte stream, and raw mode when it is a terminal. */
export type Input = NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown };

export interface Output {
  write(text: string): unknown;
}

/** Every side effect of the CLI, so tests can run `main` in-process with fake streams. */
export interface Io {
  readonly stdin: Input;
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Whether standard input is a terminal (then passwords may be prompted for). */
  readonly isTTY: boolean;
  /** Resolves with the signal's name when the operator asks `serve` to stop. */
  waitForShutdown(): Promise<string>;
}

/**
 * Under `npm start` one Ctrl-C arrives twice: the terminal signals the whole foreground group
 * (npm and the server), and npm forwards its copy to the server, late when the machine is busy.
 * The first repeat this soon after the first signal is taken for that echo, not for an
 * operator asking to stop "now"; any other repeat forces the exit.
 */
const ECHO_MS = 5_000;

function waitForProcessSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      const first = Date.now();
      let echoSeen = false;
      // A second Ctrl-C while shutting down means "now" (unless it is npm's echo of the first).
      const force = (): void => {
        if (!echoSeen && Date.now() - first < ECHO_MS) {
          echoSeen = true;
          return;
        }
        process.exit(1);
      };
      // `force` listens before `onSignal` stops: when a signal's last listener goes, Node puts
      // back the default action (end the process), and npm's echo can arrive in that gap.
      process.on("SIGINT", force);
      process.on("SIGTERM", force);
      process.removeListener("SIGINT", onSignal);
      process.removeListener("SIGTERM", onSignal);
      resolve(signal);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

export function processIo(): Io {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: process.stdin.isTTY === true,
    waitForShutdown: waitForProcessSignal,
  };
}

/** Collapses a message to one line, since an error must be exactly one line on stderr. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}

/**
 * Events whose news no command's own output carries: a password accepted although the
 * breach API could not be asked (fail open) is said, as the server's log says it.
 */
const ECHOED_EVENTS: ReadonlySet<string> = new Set(["password.breach_check_failed"]);

/**
 * The CLI's logger: stdout must stay parseable for --json, so nothing goes there. Warnings
 * and errors become plain lines on stderr. Security events are not echoed (they are in the
 * database already and the command reports its own outcome), but for ECHOED_EVENTS.
 */
export function quietLogger(io: Io): Logger {
  const write = (level: string) => (object: object, message?: string): void => {
    const event = (object as { event?: unknown }).event;
    if (typeof event === "string" && !ECHOED_EVENTS.has(event)) return;
    const text = message ?? ((object as { msg?: unknown }).msg as string | undefined) ?? JSON.stringify(object);
    io.stderr.write(`deadbolt: ${level}: ${oneLine(text)}\n`);
  };
  return { info: () => {}, warn: write("warning"), error: write("error") };
}
