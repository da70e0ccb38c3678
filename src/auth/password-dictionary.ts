import { wordListOf, type WordList } from "./password-policy.ts";

/**
 * zxcvbn-ts's kept lists: its common passwords and diceware words, and English words, names
 * and Wikipedia terms. Together about 230 000 entries; see loadCommonWords for their cost.
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
  // Imported here, not at the top: the lists cost tens of megabytes and most processes (a
  // login-only server, most CLI commands) never set a password.
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
  const words = wordListOf(entries);
  if (entries.length < 100_000) throw new Error(`zxcvbn-ts dictionaries look truncated: only ${entries.length} words`);
  return words;
}

/**
 * The dictionary of common passwords and words, loaded on first use and then shared by the
 * process. Costs about 40 MB of RSS and 0.2–0.5 s once (measured by
 * `node bench/password-dictionary.ts`), which is why nothing loads it at start-up.
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
