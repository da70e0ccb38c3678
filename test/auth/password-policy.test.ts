/** The pure password policy: known answers and properties, with the real zxcvbn-ts dictionary. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { loadCommonWords } from "../../src/auth/password-dictionary.ts";
import {
  checkPassword, PASSWORD_MAX_LENGTH, type PasswordPolicy, type PasswordRule, type WordList,
} from "../../src/auth/password-policy.ts";

const RULES: readonly PasswordRule[] = ["too_short", "too_long", "context", "pattern", "common", "breached"];
const SITE = ["deadbolt", "auth.example.org"];
const ANN = ["ann.smith@example.com", ...SITE];

let words: WordList;
let policy: PasswordPolicy;
/** The 2 000 most used passwords of zxcvbn-ts's list that meet the minimum length by themselves. */
let topPasswords: string[];
/** Diceware words (7 776 of them), the raw material of passphrases. */
let diceware: string[];

beforeAll(async () => {
  words = await loadCommonWords();
  policy = { minLength: 8, words };
  const common = (await import("@zxcvbn-ts/language-common")) as { dictionary: Record<string, string[]> };
  topPasswords = (common.dictionary["passwords-common"] ?? []).filter((w) => w.length >= 8).slice(0, 2000);
  diceware = common.dictionary["diceware-common"] ?? [];
  expect(topPasswords.length).toBe(2000);
  expect(diceware.length).toBeGreaterThan(7000);
});

function rule(password: string, context: readonly string[] = SITE, p: PasswordPolicy = policy): PasswordRule | "ok" {
  const verdict = checkPassword(password, p, context);
  return verdict.ok ? "ok" : verdict.rule;
}

describe("known answers", () => {
  it.each([
    ["short", "too_short"], ["", "too_short"], ["seven77", "too_short"],
    ["password", "common"], ["PASSWORD", "common"], ["Password1!", "common"], ["p@ssw0rd", "common"],
    ["P@$$w0rd2024!", "common"], ["iloveyou", "common"], ["!!dragon2024", "common"], ["monkey12345678", "common"],
    ["drowssap", "common"], ["pass word", "common"], ["sunshine", "common"], ["elephant", "common"],
    ["aaaaaaaa", "pattern"], ["12345678", "pattern"], ["abcdabcd", "pattern"], ["qwertyui", "pattern"],
    ["87654321", "pattern"], ["1qaz2wsx", "pattern"], ["abcd1234", "pattern"], ["zyxwvuts", "pattern"],
    ["        ", "pattern"], ["78901234", "pattern"], ["asdfjkl;", "pattern"],
    ["deadbolt", "context"], ["Deadbolt2024!", "context"], ["d3adb0lt", "context"], ["auth.example.org", "context"],
    ["exampleexample", "context"], ["deadbolt password", "context"],
  ] as const)("%j → %s", (password, expected) => {
    expect(rule(password)).toBe(expected);
  });

  it.each([
    "correct horse battery staple", "harbor velvet cactus lantern", "kT9#vq2Lm", "xkcd936!",
    "my deadbolt lock is sturdy", "Ünïcödé pässphrase wörks", "🔒🦊🌵🎻🚲🧭🍋🪁",
  ])("%j is accepted", (password) => {
    expect(rule(password)).toBe("ok");
  });

  it("context words belong to one user: Ann's name is refused for Ann, not for Bob", () => {
    expect(rule("ann.smith", ANN)).toBe("context");
    expect(rule("AnnSmith2024", ANN)).toBe("context");
    expect(rule("smith-example", ANN)).toBe("context");
    expect(rule("annsmith2024", ["bob@example.net", ...SITE])).toBe("ok");
    // A context word inside a real passphrase does not spoil it.
    expect(rule("ann smith climbs frosty hills", ANN)).toBe("ok");
  });

  it("the minimum length is the configured one, counted in characters", () => {
    const fifteen = { minLength: 15, words };
    expect(rule("harbor velvet", SITE, fifteen)).toBe("too_short");
    expect(rule("harbor velvet cactus", SITE, fifteen)).toBe("ok");
    // Eight emoji are 16 UTF-16 units but 8 characters.
    expect(rule("🔒🦊🌵🎻🚲🧭🍋", SITE)).toBe("too_short");
  });

  it("refuses over 1024 characters, whatever they are", () => {
    expect(rule("x".repeat(PASSWORD_MAX_LENGTH + 1))).toBe("too_long");
    expect(rule("correct horse battery staple ".repeat(40))).toBe("too_long");
  });

  it("never demands a symbol, a digit or a capital", () => {
    expect(rule("lowercase words only here")).toBe("ok");
  });
});

/** Capitals and look-alikes as people type them; only unambiguous look-alikes. */
const LOOK_ALIKE: Readonly<Record<string, readonly string[]>> = {
  a: ["@", "4"], e: ["3"], o: ["0"], s: ["$", "5"], b: ["8"], i: ["!"],
};

function disguised(word: string, choices: readonly number[], suffix: string): string {
  return [...word].map((char, i) => {
    const choice = choices[i % choices.length] ?? 0;
    const alikes = LOOK_ALIKE[char];
    if (choice === 1) return char.toUpperCase();
    if (choice === 2 && alikes) return alikes[i % alikes.length] as string;
    return char;
  }).join("") + suffix;
}

describe("properties", () => {
  const RUNS = { numRuns: 300 };

  it("any string gets a verdict, never an exception, with a known rule", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 1100 }), fc.array(fc.string(), { maxLength: 3 }), (password, context) => {
      const verdict = checkPassword(password, policy, context);
      if (!verdict.ok) {
        expect(RULES).toContain(verdict.rule);
        expect(verdict.reason.length).toBeGreaterThan(10);
      }
    }), RUNS);
  });

  it("length alone decides below the minimum and above the maximum", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 7 }), (password) => {
      expect(rule(password)).toBe("too_short");
    }), RUNS);
    fc.assert(fc.property(fc.string({ unit: "binary", minLength: 1025, maxLength: 1200 }), (password) => {
      expect(rule(password)).toBe("too_long");
    }), { numRuns: 50 });
  });

  it("a common password is refused in any case, with look-alikes and a few trailing digits or symbols", () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 1999 }),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 8 }),
      fc.string({ unit: fc.constantFrom(..."0123456789!?#*.$"), maxLength: 4 }),
      (index, choices, suffix) => {
        const password = disguised(topPasswords[index] as string, choices, suffix);
        expect(["common", "pattern"], password).toContain(rule(password, []));
      },
    ), RUNS);
  });

  it("the verdict does not depend on letter case", () => {
    fc.assert(fc.property(fc.string({ minLength: 8, maxLength: 40 }), (password) => {
      expect(rule(password.toUpperCase())).toBe(rule(password.toLowerCase()));
    }), RUNS);
  });

  it("a passphrase of four different diceware words is accepted", () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 7775 }), { minLength: 4, maxLength: 4 }),
      fc.constantFrom(" ", "-", "."),
      (indexes, separator) => {
        const password = indexes.map((i) => diceware[i]).join(separator);
        expect(rule(password), password).toBe("ok");
      },
    ), RUNS);
  });

  it("a password built from the user's e-mail is refused for that user and no other", () => {
    const local = fc.stringMatching(/^[a-z]{4,10}\.[a-z]{4,10}$/);
    fc.assert(fc.property(local, fc.stringMatching(/^[0-9!]{0,4}$/), (name, suffix) => {
      const password = `${name.replace(".", "")}${suffix}`.padEnd(8, "!");
      expect(rule(password, [`${name}@example.com`])).toBe("context");
    }), RUNS);
  });

  it("runs and repetitions of any unit are refused", () => {
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 6 }), fc.integer({ min: 2, max: 12 }), (unit, times) => {
      const password = unit.repeat(Math.max(times, Math.ceil(8 / unit.length)));
      if ([...password].length > PASSWORD_MAX_LENGTH) return;
      expect(["pattern", "common", "context", "too_short"]).toContain(rule(password));
      expect(rule(password)).not.toBe("ok");
    }), RUNS);
  });
});
