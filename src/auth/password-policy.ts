import { canonical, compact, fold, guessableForms, isRunOrRepetition, withoutWords, wordsOf } from "./password-patterns.ts";

/**
 * The one password policy (SPEC "Passwords", NIST SP 800-63B-4 §3.1.1.2): a new password is
 * refused when a guesser would find it early, never for lacking a digit or a symbol. Pure:
 * the dictionary and the context words are inputs; the breach check is done by the caller.
 */

/** Longer inputs are refused before hashing so that a huge body cannot burn CPU. */
export const PASSWORD_MAX_LENGTH = 1024;
/** DEADBOLT_PASSWORD_MIN_LENGTH's default; NIST's floor for any password. */
export const PASSWORD_MIN_LENGTH = 8;

export type PasswordRule = "too_short" | "too_long" | "context" | "pattern" | "common" | "breached";

/** The narrow view of a dictionary the policy needs: lookups by canonical spelling (see word-list.ts). */
export interface WordList {
  has(canonicalWord: string): boolean;
}

export interface PasswordPolicy {
  /** DEADBOLT_PASSWORD_MIN_LENGTH, in characters (code points). */
  readonly minLength: number;
  /** Common passwords and words, lower case. */
  readonly words: WordList;
}

export type PasswordVerdict =
  | { readonly ok: true }
  /** `reason` completes "The password …": "is one of the most common passwords". */
  | { readonly ok: false; readonly rule: PasswordRule; readonly reason: string };

/** Why each rule refuses, said to the user; what to do instead is on the pages. */
export function reasonFor(rule: PasswordRule, policy: { minLength: number }): string {
  switch (rule) {
    case "too_short": return `must be at least ${policy.minLength} characters (a passphrase of a few words is long and easy to remember)`;
    case "too_long": return `must be at most ${PASSWORD_MAX_LENGTH} characters`;
    case "context": return "is built from the e-mail address or the name of this site, which guessers try first";
    case "pattern": return "is a run or a repetition (like aaaaaaaa, 12345678 or qwertyui), which guessers try first";
    case "common": return "is one of the most common passwords or words (capitals, digits, symbols or look-alikes such as p@ssw0rd1! do not hide it)";
    case "breached": return "has appeared in a data breach (Have I Been Pwned), so guessers try it first";
  }
}

export function refusal(rule: PasswordRule, policy: { minLength: number }): PasswordVerdict {
  return { ok: false, rule, reason: reasonFor(rule, policy) };
}

/** The length rules alone: cheap, and decided before any dictionary is loaded. */
export function checkLength(password: string, policy: { minLength: number }): PasswordVerdict {
  const length = [...password].length;
  if (length < policy.minLength) return refusal("too_short", policy);
  if (length > PASSWORD_MAX_LENGTH) return refusal("too_long", policy);
  return { ok: true };
}

function isCommon(forms: readonly string[], words: WordList): boolean {
  return forms.some((form) => words.has(canonical(form)));
}

/** What is left of a password once the guesser's known words are gone: is it nothing much? */
function isTrivial(rest: string, words: WordList): boolean {
  const text = compact(rest);
  if ([...text].length < 3 || /^[^\p{L}]{1,6}$/u.test(text)) return true;
  return isRunOrRepetition(text) || isCommon(guessableForms(text), words);
}

/**
 * True when removing the context words from some guessable form leaves nothing a guesser
 * would need to work for: "ann.smith2024", "D3adb0lt!", "example-password".
 */
function isBuiltFrom(forms: readonly string[], context: readonly string[], words: WordList): boolean {
  const known = [...new Set(context.flatMap(wordsOf).map(canonical))];
  if (known.length === 0) return false;
  return forms.some((form) => {
    const rest = withoutWords(form, known);
    return rest !== null && isTrivial(rest, words);
  });
}

/**
 * Decides whether a new password is acceptable.
 *
 * @param context what a guesser knows about this user and site: the e-mail address, the app
 *   name, the host of the public URL (each split into its words).
 * @example
 * checkPassword("Password1!", { minLength: 8, words: wordListOf(["password"]) }, ["ann@example.com"])
 * // → { ok: false, rule: "common", reason: "is one of the most common passwords…" }
 */
export function checkPassword(password: string, policy: PasswordPolicy, context: readonly string[]): PasswordVerdict {
  const length = checkLength(password, policy);
  if (!length.ok) return length;
  const folded = fold(password);
  const forms = guessableForms(folded);
  if (isBuiltFrom(forms, context, policy.words)) return refusal("context", policy);
  if (isRunOrRepetition(folded) || forms.some((form) => form !== folded && isRunOrRepetition(form))) {
    return refusal("pattern", policy);
  }
  if (isCommon(forms, policy.words)) return refusal("common", policy);
  return { ok: true };
}
