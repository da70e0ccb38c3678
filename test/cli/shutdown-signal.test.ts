import { afterEach, describe, expect, it } from "vitest";
import { processIo } from "../../src/cli/io.ts";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

describe("serve's wait for a stop signal", () => {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const ours = (signal: (typeof SIGNALS)[number]) => process.listeners(signal).filter((listener) => !before.get(signal)!.has(listener));

  afterEach(() => {
    for (const signal of SIGNALS) for (const listener of ours(signal)) process.removeListener(signal, listener);
  });

  // When a signal's last listener is removed, Node puts back its default action (end the
  // process). npm's echo of a Ctrl-C arrives right as the first copy is handled, so a gap there
  // ended the server with 130 instead of draining it.
  it("keeps a listener on SIGINT and SIGTERM at every moment after the first signal", async () => {
    const left: number[] = [];
    const onRemove = (event: string | symbol): void => {
      if (event === "SIGINT" || event === "SIGTERM") left.push(ours(event).length);
    };
    process.on("removeListener", onRemove);
    try {
      const stopped = processIo().waitForShutdown();
      process.emit("SIGINT", "SIGINT");
      expect(await stopped).toBe("SIGINT");
    } finally {
      process.removeListener("removeListener", onRemove);
    }
    expect(left).toHaveLength(2);
    expect(left.every((count) => count > 0)).toBe(true);
    // The echo that follows is taken for the first signal's, not for "stop now".
    process.emit("SIGINT", "SIGINT");
    expect(ours("SIGINT")).toHaveLength(1);
  });
});
