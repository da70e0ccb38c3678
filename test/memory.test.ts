import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const MODULE = fileURLToPath(new URL("../src/memory.ts", import.meta.url));

describe("releaseStartupMemory", () => {
  it("collects without --expose-gc and leaves no gc() behind in the process's own context", () => {
    // A fresh process: vitest's workers may run with flags of their own.
    const script = `const { releaseStartupMemory } = await import(${JSON.stringify(MODULE)});
      const junk = Array.from({ length: 200000 }, (_, i) => ({ i }));
      const before = process.memoryUsage().heapUsed; junk.length = 0;
      releaseStartupMemory();
      console.log(JSON.stringify({ gc: typeof globalThis.gc, shrank: process.memoryUsage().heapUsed < before }));`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(JSON.parse(out)).toEqual({ gc: "undefined", shrank: true });
  });
});
