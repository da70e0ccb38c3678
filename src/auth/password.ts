import { hash, verify, type Algorithm } from "@node-rs/argon2";

/** argon2id with OWASP's recommended minimum: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_OPTIONS = Object.freeze({
  // Algorithm.Argon2id; a const enum cannot be read under type stripping.
  algorithm: 2 as Algorithm,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

export const PASSWORD_MIN_LENGTH = 8;
/** Longer inputs are refused before hashing so that a huge body cannot burn CPU. */
export const PASSWORD_MAX_LENGTH = 1024;

export interface Hasher {
  hash(password: string): Promise<string>;
  verify(passwordHash: string, password: string): Promise<boolean>;
  /**
   * Spends the time of one verification without touching any stored hash, so that unknown,
   * locked and disabled accounts answer as slowly as a wrong password.
   */
  dummyVerify(password: string): Promise<void>;
}

export async function createArgon2Hasher(): Promise<Hasher> {
  const dummyHash = await hash("deadbolt-dummy-password", ARGON2_OPTIONS);
  return {
    hash: (password) => hash(password, ARGON2_OPTIONS),
    async verify(passwordHash, password) {
      try {
        return await verify(passwordHash, password);
      } catch {
        // A corrupt stored hash is a failed verification, never a crash.
        return false;
      }
    },
    async dummyVerify(password) {
      await verify(dummyHash, password).catch(() => false);
    },
  };
}

/** Why a new password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  if (password.length < PASSWORD_MIN_LENGTH) return `must be at least ${PASSWORD_MIN_LENGTH} characters`;
  if (password.length > PASSWORD_MAX_LENGTH) return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
  return null;
}
