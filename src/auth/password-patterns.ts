/**
 * Pure string helpers of the password policy: the variants a guesser tries first (case,
 * look-alike substitutions, a few digits or symbols around a word) and runs or repetitions.
 * Nothing here reads a dictionary, the clock or the network.
 */

/** Keyboard rows and columns (QWERTY, QWERTZ, AZERTY, keypad), walked in either direction. */
const KEYBOARD_LINES: readonly string[] = (() => {
  const lines = [
    "`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
    "qwertzuiopü", "asdfghjklöä", "yxcvbnm", "azertyuiop", "qsdfghjklm", "wxcvbn",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "zaq1xsw2cde3vfr4bgt5nhy6mju7,ki8.lo9/;p0",
    "789456123", "147258369", "7410852963",
  ];
  return [...lines, ...lines.map(reverse)];
})();

/**
 * Look-alikes people put in place of letters, each with the letter it stands for. "l" joins
 * "i" (both are written "1", "!" or "|"), so one canonical spelling covers every reading.
 */
const LOOK_ALIKES: Readonly<Record<string, string>> = {
  "4": "a", "@": "a", "8": "b", "(": "c", "3": "e", "6": "g", "9": "g",
  "l": "i", "1": "i", "!": "i", "|": "i", "0": "o", "$": "s", "5": "s",
  "7": "t", "+": "t", "2": "z",
};
/** Digits and symbols around a word ("Password1!", "2024dragon") that still leave it guessable. */
const MAX_AFFIX = 6;
/** A shorter "word" between digits ("48552km9") is not what a guesser starts from. */
const MIN_CORE = 4;
/** No listed password or word is longer. */
const LONGEST_WORD = 64;
/** A run or repetition shorter than this is just part of a password. */
const MIN_RUN = 3;
/** A password made of at most this many runs ("qwerty123", "abcabc123") is a pattern. */
const MAX_RUNS = 3;

export function reverse(text: string): string {
  return [...text].reverse().join("");
}

/** Case-folded and Unicode-normalised, so "Ｐａｓｓｗｏｒｄ" and "PASSWORD" compare as "password". */
export function fold(text: string): string {
  return text.normalize("NFKC").toLowerCase();
}

/** Without spaces and the separators people put between words ("pass word", "pass-word"). */
export function compact(text: string): string {
  return text.replace(/[\s._-]+/gu, "");
}

/**
 * The spelling a word and its disguises share: "p@ssw0rd", "pa$$word" and "password" all
 * read "passwoid". Dictionaries are stored in this form, so one lookup covers every mix of
 * look-alikes (including digits that belong to the word, as in "1qaz2wsx").
 */
export function canonical(folded: string): string {
  let out = "";
  for (const char of folded) out += LOOK_ALIKES[char] ?? char;
  return out;
}

/**
 * `folded` without every occurrence of the (canonical) words, matched in canonical spelling
 * so "d3adb0lt" contains "deadbolt"; null when none occurs. canonical() keeps every UTF-16
 * position, so the matches map back onto the text as typed.
 */
export function withoutWords(folded: string, canonicalWords: readonly string[]): string | null {
  const spelled = canonical(folded);
  const removed = new Uint8Array(folded.length);
  let found = false;
  for (const word of canonicalWords) {
    for (let at = spelled.indexOf(word); at !== -1 && word !== ""; at = spelled.indexOf(word, at + 1)) {
      removed.fill(1, at, at + word.length);
      found = true;
    }
  }
  if (!found) return null;
  let rest = "";
  for (let i = 0; i < folded.length; i++) if (removed[i] === 0) rest += folded[i];
  return rest;
}

const isLetter = (char: string): boolean => /\p{L}/u.test(char);

/**
 * How many characters of a digit/symbol run a guesser strips: each cut of up to MAX_AFFIX
 * (so a look-alike next to the word stays with it: "hell0" + "12"), and the whole run when
 * it is a run itself ("monkey" + "12345678").
 */
function cuts(run: readonly string[]): number[] {
  const lengths = [0];
  for (let k = 1; k <= Math.min(run.length, MAX_AFFIX); k++) lengths.push(k);
  if (run.length > MAX_AFFIX && isRunOrRepetition(run.join(""))) lengths.push(run.length);
  return lengths;
}

/**
 * The word inside a few digits or symbols: "password1!" → "password", "!!dragon2024" →
 * "dragon", "monkey12345678" → "monkey". Longer affixes are kept: they add real guesses.
 */
export function stripAffixes(text: string): string[] {
  const chars = [...text];
  const n = chars.length;
  let lead = 0;
  while (lead < n && !isLetter(chars[lead] as string)) lead++;
  // No letters at all ("12345678!"): the whole text is a word with a possible suffix.
  if (lead === n) lead = 0;
  let trail = 0;
  while (trail < n - lead && !isLetter(chars[n - 1 - trail] as string)) trail++;
  const results: string[] = [];
  for (const p of cuts(chars.slice(0, lead))) {
    for (const s of cuts(chars.slice(n - trail))) {
      const core = chars.slice(p, n - s);
      const cheap = p + s <= MAX_AFFIX || p > MAX_AFFIX || s > MAX_AFFIX; // only runs are that long
      if ((p > 0 || s > 0) && cheap && core.length >= MIN_CORE && core.length <= LONGEST_WORD) results.push(core.join(""));
    }
  }
  return results;
}

/**
 * The forms of a (folded) password a guesser tries: as typed, without separators, reversed,
 * and without a short digit/symbol prefix or suffix. Compare them with canonical().
 */
export function guessableForms(folded: string): string[] {
  const forms = new Set<string>();
  for (const base of new Set([folded, compact(folded)])) {
    for (const form of [base, reverse(base), ...stripAffixes(base)]) forms.add(form);
  }
  forms.delete("");
  return [...forms];
}

function repeatedChar(text: string, start: number): number {
  let end = start + 1;
  while (end < text.length && text[end] === text[start]) end++;
  return end - start;
}

/** "abcdef", "97531", "7890123" (digits wrap around): each step the same, 1 or 2. */
function sequence(text: string, start: number): number {
  const codes = [...text.slice(start, start + 2)].map((c) => c.codePointAt(0) ?? 0);
  if (codes.length < 2) return codes.length;
  const isDigit = (c: number) => c >= 48 && c <= 57;
  const stepOf = (a: number, b: number) => (isDigit(a) && isDigit(b) ? ((b - a + 15) % 10) - 5 : b - a);
  const step = stepOf(codes[0] as number, codes[1] as number);
  if (step === 0 || Math.abs(step) > 2) return 1;
  let end = start + 1;
  while (end < text.length && stepOf(text.charCodeAt(end - 1), text.charCodeAt(end)) === step) end++;
  return end - start;
}

/** The longest stretch from `start` that is a walk along one keyboard line. */
function keyboardWalk(text: string, start: number): number {
  let best = 0;
  for (const line of KEYBOARD_LINES) {
    let from = line.indexOf(text[start] as string);
    while (from !== -1) {
      let length = 0;
      while (start + length < text.length && line[from + length] === text[start + length]) length++;
      best = Math.max(best, length);
      from = line.indexOf(text[start] as string, from + 1);
    }
  }
  return best;
}

/** True when `text` is one unit said again: "abcabc", "passwordpassword", "1212". */
export function isRepetition(text: string): boolean {
  const n = text.length;
  for (let unit = 1; unit <= n / 2; unit++) {
    if (n % unit === 0 && text.slice(unit) === text.slice(0, n - unit)) return true;
  }
  return false;
}

/**
 * True when `text` (folded) is a repetition, or at most MAX_RUNS runs each of at least
 * MIN_RUN characters: "aaaaaaaa", "12345678", "qwertyui", "abcd1234", "1qaz2wsx".
 */
export function isRunOrRepetition(folded: string): boolean {
  const text = compact(folded);
  // Only separators ("        ", "........"): a repetition of one character.
  if (text.length < MIN_RUN) return folded.length >= MIN_RUN && isRepetition(folded);
  if (isRepetition(text)) return true;
  let runs = 0;
  for (let at = 0; at < text.length; runs++) {
    if (runs === MAX_RUNS) return false;
    const length = Math.max(repeatedChar(text, at), sequence(text, at), keyboardWalk(text, at));
    if (length < MIN_RUN) return false;
    at += length;
  }
  return true;
}

/**
 * The words of an e-mail address, a site name or a host a guesser would try for this user:
 * "ann.smith@mail.example.com" → "ann.smith", "ann", "smith", "mail.example.com", "mail",
 * "example", "com". Pieces shorter than 3 characters are left out ("a", "co").
 */
export function wordsOf(text: string): string[] {
  const folded = fold(text).trim();
  const words = new Set<string>();
  for (const whole of folded.split("@")) {
    if (whole.length >= MIN_RUN) words.add(whole);
    for (const piece of whole.split(/[^\p{L}\p{N}]+/u)) if (piece.length >= MIN_RUN) words.add(piece);
  }
  return [...words];
}
