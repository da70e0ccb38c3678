import { releaseStartupMemory } from "../memory.ts";
import type { WordList } from "./password-policy.ts";
import { wordListOf } from "./word-list.ts";

/**
 * zxcvbn-ts's kept lists: its common passwords and diceware words, and English words, names
 * and Wikipedia terms. Together about 230 000 entries (180 000 canonical spellings); see
 * loadCommonWords for their cost.
 */
const LISTS = {
  common: ["passwords-common", "diceware-common"],
  en: ["commonWords-en", "firstnames-en", "lastnames-en", "wikipedia-en"],
} as const;

interface LanguagePackage {
  readonly dictionary: Readonly<Record<string, readonly (string | number)[]>>;
}

let loading: Promise<WordList> | null = null;

async function load(): Promise<WordList> {
  // Imported here, not at the top: the packages cost tens of megabytes while they are read,
  // and most processes (a login-only server, most CLI commands) never set a password.
  const [common, en] = await Promise.all([
    import("@zxcvbn-ts/language-common") as Promise<LanguagePackage>,
    import("@zxcvbn-ts/language-en") as Promise<LanguagePackage>,
  ]);
  const entries: string[] = [];
  for (const [pkg, names] of [[common, LISTS.common], [en, LISTS.en]] as const) {
    for (const name of names) for (const entry of pkg.dictionary[name] ?? []) entries.push(String(entry));
  }
  // The small English sequences (months, planets, the military alphabet) come along.
  for (const [name, list] of Object.entries(en.dictionary)) {
    if (!(LISTS.en as readonly string[]).includes(name)) for (const entry of list) entries.push(String(entry));
  }
  if (entries.length < 100_000) throw new Error(`zxcvbn-ts dictionaries look truncated: only ${entries.length} words`);
  const words = wordListOf(entries);
  // Building it allocated some 40 MB of short-lived strings, which grew V8's young generation
  // for good (as start-up does; see memory.ts): one memory-reducing collection gives it back.
  releaseStartupMemory();
  return words;
}

/**
 * The dictionary of common passwords and words, loaded on first use and then shared by the
 * process. Loading takes 0.3–0.5 s once and leaves about 15 MB more RSS (the packages' own
 * lists, which the module cache keeps, and the packed list; measured by
 * `npx node bench/password-dictionary.ts` and test/auth/password-lazy.test.ts), which is why
 * nothing loads it at start-up.
 */
export function loadCommonWords(): Promise<WordList> {
  loading ??= load().catch((error: unknown) => {
    loading = null;
    throw error;
  });
  return loading;
}

/** True once the dictionary is in memory (for tests of the idle footprint). */
export function commonWordsLoaded(): boolean {
  return loading !== null;
}
