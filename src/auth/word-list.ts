import { canonical, fold } from "./password-patterns.ts";
import type { WordList } from "./password-policy.ts";

/**
 * The dictionary's words as the policy looks them up, in one sorted string: its 180 000
 * canonical spellings take about 1.5 MB this way, where a Set of as many strings kept tens of
 * megabytes resident for the life of the process.
 */

interface Packed {
  /** The words in code-unit order (the order of `<`), each followed by "\n" but the last. */
  readonly text: string;
  /** Where each word starts in `text`, and one more entry: text.length + 1. */
  readonly starts: Uint32Array;
}

function pack(words: Iterable<string>): Packed {
  const unique = new Set<string>();
  for (const word of words) {
    const form = canonical(fold(word));
    if (form !== "" && !form.includes("\n")) unique.add(form);
  }
  const sorted = [...unique].sort();
  const starts = new Uint32Array(sorted.length + 1);
  let at = 0;
  for (let i = 0; i < sorted.length; i++) {
    starts[i] = at;
    at += (sorted[i] as string).length + 1;
  }
  starts[sorted.length] = at;
  return { text: sorted.join("\n"), starts };
}

/**
 * A WordList of `words` (any case and spelling, as listed): looked up by canonical spelling,
 * by binary search.
 *
 * @example
 * wordListOf(["Password", "dragon"]).has(canonical("p@ssw0rd")) // → true
 */
export function wordListOf(words: Iterable<string>): WordList {
  const { text, starts } = pack(words);
  const count = starts.length - 1;
  return {
    has(canonicalWord) {
      let low = 0;
      let high = count - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const entry = text.slice(starts[middle], (starts[middle + 1] as number) - 1);
        if (entry === canonicalWord) return true;
        if (entry < canonicalWord) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
  };
}
