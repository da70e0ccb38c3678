/** The packed word list answers exactly as a Set of the canonical spellings would. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonical, fold } from "../../src/auth/password-patterns.ts";
import { wordListOf } from "../../src/auth/word-list.ts";

const spelled = (word: string): string => canonical(fold(word));

describe("wordListOf", () => {
  it("finds each listed word in any case or disguise, and nothing else", () => {
    const words = wordListOf(["Password", "dragon", "ÉCOLE", "zebra", "a", "iloveyou"]);
    for (const probe of ["password", "p@ssw0rd", "PASSWORD", "dragon", "école", "zebra", "a", "il0vey0u"]) {
      expect(words.has(spelled(probe)), probe).toBe(true);
    }
    for (const probe of ["passwor", "passwords", "", "b", "zebras", "dragon\n", "\n"]) {
      expect(words.has(spelled(probe)), probe).toBe(false);
    }
  });

  it("an empty list has nothing; an empty or multi-line entry is never listed", () => {
    expect(wordListOf([]).has("password")).toBe(false);
    expect(wordListOf([]).has("")).toBe(false);
    const odd = wordListOf(["", "two\nlines", "one"]);
    expect(odd.has("")).toBe(false);
    expect(odd.has("two")).toBe(false);
    expect(odd.has("one")).toBe(true);
  });

  it("agrees with a Set of the canonical spellings, for any words and probes (any Unicode)", () => {
    fc.assert(fc.property(
      fc.array(fc.string({ unit: "binary", maxLength: 12 }), { maxLength: 60 }),
      fc.array(fc.string({ unit: "binary", maxLength: 12 }), { maxLength: 30 }),
      (words, others) => {
        const list = wordListOf(words);
        const set = new Set(words.map(spelled).filter((w) => w !== "" && !w.includes("\n")));
        for (const probe of [...words, ...others].map(spelled)) expect(list.has(probe), JSON.stringify(probe)).toBe(set.has(probe));
      },
    ), { numRuns: 300 });
  });
});
