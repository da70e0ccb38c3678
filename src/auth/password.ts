import { hash, verify, type Algorithm } from "@node-rs/argon2";
import { availableParallelism } from "node:os";
import bcrypt from "bcryptjs";
import { lowerHashingPriority } from "./hashing-priority.ts";
import { createPriorityGate, type Lane } from "./priority-gate.ts";
import { createTrustedThread, type TrustedThread } from "./trusted-thread.ts";

/** argon2id with OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = Object.freeze({
  // Algorithm.Argon2id; a const enum cannot be read under type stripping.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/** Hashes deadbolt can verify: its own argon2id, and imported argon2i and bcrypt. */
export type HashKind = "argon2" | "bcrypt";

const ARGON2_PHC = /^\$argon2(id|i)\$(v=(16|19)\$)?m=\d{1,8},t=\d{1,4},p=\d{1,3}\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{16,}$/;
const BCRYPT = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;
/** The PHC prefix of a hash made with ARGON2_OPTIONS: anything else is upgraded at login. */
const CURRENT_PREFIX = `$argon2id$v=19$m=${ARGON2_OPTIONS.memoryCost},t=${ARGON2_OPTIONS.timeCost},p=${ARGON2_OPTIONS.parallelism}$`;

/** Which verifier a stored hash needs, or null when it is none deadbolt accepts. */
export function hashKind(passwordHash: string): HashKind | null {
  if (ARGON2_PHC.test(passwordHash)) return "argon2";
  if (BCRYPT.test(passwordHash)) return "bcrypt";
  return null;
}

/** True for a hash that verifies but is not deadbolt's current argon2id (imported, or older settings). */
export function needsUpgrade(passwordHash: string): boolean {
  return hashKind(passwordHash) !== null && !passwordHash.startsWith(CURRENT_PREFIX);
}

/** Which lane of the priority gate a verification waits in; untrusted when not said. */
export interface VerifyOptions {
  readonly lane?: Lane;
}

export interface Hasher {
  hash(password: string): Promise<string>;
  /** argon2 (PHC) or bcrypt; an unusable hash costs a dummy verification and is false. */
  verify(passwordHash: string, password: string, options?: VerifyOptions): Promise<boolean>;
  /**
   * Spends the time of one verification without touching any stored hash, so that unknown,
   * locked and disabled accounts answer as slowly as a wrong password.
   */
  dummyVerify(password: string, options?: VerifyOptions): Promise<void>;
  /**
   * False when a verification in `lane` would join a queue already at its bound (a flood):
   * the attempt is then refused as busy before anything is counted or verified. Absent means
   * always admitted (hashers without a queue).
   */
  admits?(lane: Lane): boolean;
}

/**
 * The longest queue of untrusted verifications: 64 per core hashing, at least 256, i.e. a
 * few seconds of queue (a verification takes 20–30 ms per core). A burst on one account (every
 * surplus attempt spends a dummy verification once it sees the lock) fits; a flood from more
 * addresses than the per-client throttle can hold back would otherwise grow the queue, and
 * every untrusted answer's wait, the legitimate ones included, without end. Beyond it,
 * untrusted attempts are turned away at once. Trusted attempts have their own lane.
 */
export function maxUntrustedWaiting(cores: number): number {
  return Math.max(256, 64 * cores);
}

/** Untrusted checks waiting from which the gate treats the queue as a flood (priority-gate.ts). */
export function untrustedFloodAt(cores: number): number {
  return Math.max(64, 16 * cores);
}

/**
 * How many verifications run at once: one more than the pool threads that can hash side by side
 * (libuv's pool, UV_THREADPOOL_SIZE, but no more than the cores; `deadbolt serve` sizes the pool
 * to the cores, bin/server-flags.js). The extra check waits in libuv's queue, so a pool thread
 * that finishes one starts the next at once. One per core, as it was, left a core idle after every
 * verification until the event loop got round to starting the next (the bench measured 2.1 ms
 * of event-loop CPU per wrong-password answer, 1.3 ms with a wider gate). Each place costs
 * 19 MiB while it hashes, so no more than that; at most one check waits in libuv's FIFO, so the
 * gate still chooses the order of all the others.
 */
export function hashingPlaces(env: NodeJS.ProcessEnv = process.env, cores = availableParallelism()): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  // libuv's own default and bounds (1–1024).
  const pool = Number.isInteger(size) && size >= 1 ? Math.min(size, 1024) : 4;
  return Math.min(pool, cores) + 1;
}

/**
 * argon2id behind a priority gate one place wider than the cores: attempts from trusted
 * devices (and hashing of new passwords, which only signed-in users and mailed links reach)
 * go ahead of queued untrusted ones, so a flood of guesses cannot slow the known users down.
 * During a flood untrusted checks keep to one place fewer than the cores, so a trusted check
 * starts at once on a core of its own and the event loop keeps one to answer the flood.
 */
export async function createArgon2Hasher(
  options: { concurrency?: number; maxUntrustedWaiting?: number; trustedThread?: TrustedThread } = {},
): Promise<Hasher> {
  const dummyHash = await hash("deadbolt-dummy-password", ARGON2_OPTIONS);
  // The pool's threads exist now (that hash ran on one): the event loop goes before them.
  lowerHashingPriority();
  const concurrency = options.concurrency ?? hashingPlaces();
  const cores = Math.min(concurrency, availableParallelism());
  const gate = createPriorityGate(concurrency, {
    maxWaiting: { untrusted: options.maxUntrustedWaiting ?? maxUntrustedWaiting(cores) },
    // Far above what a busy minute queues (one waiting check per concurrent client), a quarter
    // of the bound: a flood then leaves trusted devices their places and the event loop a core.
    floodAt: untrustedFloodAt(cores),
    floodPlaces: cores - 1,
  });
  const trustedThread = options.trustedThread ?? createTrustedThread();
  return {
    hash: (password) => gate.run("trusted", () => hash(password, ARGON2_OPTIONS)),
    verify: (passwordHash, password, verifyOptions) => {
      const lane = verifyOptions?.lane ?? "untrusted";
      const checked = gate.run(lane, () => (lane === "trusted" && gate.flooding() && hashKind(passwordHash) === "argon2"
        ? trustedThread.verify(passwordHash, password).catch(() => verifyNow(passwordHash, password))
        : verifyNow(passwordHash, password)));
      warmUpTrustedThread();
      return checked;
    },
    dummyVerify: (password, verifyOptions) => {
      const spent = gate.run(verifyOptions?.lane ?? "untrusted", async () => {
        await verify(dummyHash, password).catch(() => false);
      });
      warmUpTrustedThread();
      return spent;
    },
    admits: (lane) => gate.admits(lane),
  };

  /**
   * During a flood a trusted device's check runs on a thread at the event loop's priority, not
   * on the pool at nice 10 (trusted-thread.ts). The thread starts with the flood, before the
   * first trusted check needs it, and ends after a quiet minute.
   */
  function warmUpTrustedThread(): void {
    if (gate.flooding() && !trustedThread.running()) void trustedThread.verify(dummyHash, "").catch(() => false);
  }

  async function verifyNow(passwordHash: string, password: string): Promise<boolean> {
    const kind = hashKind(passwordHash);
    try {
      // bcryptjs: $2y$ is the same algorithm as $2b$ (PHP's name for it).
      if (kind === "bcrypt") return await bcrypt.compare(password, passwordHash);
      if (kind === "argon2") return await verify(passwordHash, password);
      // An imported user without a password: as slow as a wrong one, never true.
      await verify(dummyHash, password).catch(() => false);
      return false;
    } catch {
      // A corrupt stored hash is a failed verification, never a crash.
      return false;
    }
  }
}
