import { describe, expect, it } from "vitest";
import { createArgon2Hasher, createPriorityGate, hashingPlaces, type Lane } from "../../src/auth/index.ts";

/** A task that finishes only when the test says so, and records when it started. */
function controlled(started: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => { finish = resolve; });
  return { task: async () => { started.push(name); await done; return name; }, finish: () => finish() };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("the hashing priority gate", () => {
  it("runs at most `concurrency` tasks, and starts queued trusted ones before queued untrusted ones", async () => {
    const gate = createPriorityGate(2);
    const started: string[] = [];
    const tasks = new Map<string, ReturnType<typeof controlled>>();
    const results: Promise<string>[] = [];
    const submit = (lane: Lane, name: string) => {
      const c = controlled(started, name);
      tasks.set(name, c);
      results.push(gate.run(lane, c.task));
    };
    submit("untrusted", "u1");
    submit("untrusted", "u2");
    for (let i = 3; i <= 6; i++) submit("untrusted", `u${i}`);
    submit("trusted", "t1");
    submit("trusted", "t2");
    await tick();
    expect(started).toEqual(["u1", "u2"]);
    expect(gate.stats()).toEqual({ running: 2, waiting: { trusted: 2, untrusted: 4 } });
    // Each freed place goes to the oldest trusted task while there is one, though the untrusted came first.
    tasks.get("u1")!.finish();
    await tick();
    expect(started).toEqual(["u1", "u2", "t1"]);
    tasks.get("u2")!.finish();
    await tick();
    expect(started).toEqual(["u1", "u2", "t1", "t2"]);
    tasks.get("t1")!.finish();
    await tick();
    expect(started).toEqual(["u1", "u2", "t1", "t2", "u3"]);
    // A trusted task arriving behind a queue of untrusted ones still goes next.
    submit("trusted", "t3");
    tasks.get("t2")!.finish();
    await tick();
    expect(started.slice(-1)).toEqual(["t3"]);
    for (const name of ["u3", "t3", "u4", "u5", "u6"]) {
      tasks.get(name)!.finish();
      await tick();
    }
    expect(started).toEqual(["u1", "u2", "t1", "t2", "u3", "t3", "u4", "u5", "u6"]);
    expect(await Promise.all(results)).toEqual(["u1", "u2", "u3", "u4", "u5", "u6", "t1", "t2", "t3"]);
    expect(gate.stats()).toEqual({ running: 0, waiting: { trusted: 0, untrusted: 0 } });
  });

  it("a failing task frees its place and rejects only its own caller", async () => {
    const gate = createPriorityGate(1);
    const failing = gate.run("untrusted", async () => { throw new Error("boom"); });
    const throwing = gate.run("untrusted", () => { throw new Error("sync boom"); });
    const next = gate.run("untrusted", async () => "ok");
    await expect(failing).rejects.toThrow("boom");
    await expect(throwing).rejects.toThrow("sync boom");
    expect(await next).toBe("ok");
    expect(() => createPriorityGate(0)).toThrow(/positive integer/);
  });

  it("admits a lane while its queue is under maxWaiting; the other lane and a free place are unaffected", async () => {
    const gate = createPriorityGate(1, { maxWaiting: { untrusted: 2 } });
    const started: string[] = [];
    const held = [controlled(started, "u1"), controlled(started, "u2"), controlled(started, "u3")];
    expect(gate.admits("untrusted")).toBe(true);
    const runs = held.map((c) => gate.run("untrusted", c.task));
    await tick();
    // One runs, two wait: the untrusted queue is full, the trusted one is not bounded.
    expect(gate.stats()).toEqual({ running: 1, waiting: { trusted: 0, untrusted: 2 } });
    // Without floodAt (and with one place) a full queue is not a flood.
    expect(gate.flooding()).toBe(false);
    expect(gate.admits("untrusted")).toBe(false);
    expect(gate.admits("trusted")).toBe(true);
    held[0]!.finish();
    await tick();
    expect(gate.admits("untrusted")).toBe(true);
    for (const c of held) c.finish();
    expect(await Promise.all(runs)).toEqual(["u1", "u2", "u3"]);
    expect(() => createPriorityGate(1, { maxWaiting: { untrusted: -1 } })).toThrow(/non-negative integer/);
  });

  it("under a flood (floodAt untrusted waiting) untrusted tasks leave one place free, so a trusted one starts at once", async () => {
    const gate = createPriorityGate(2, { floodAt: 2, maxWaiting: { untrusted: 2 } });
    const started: string[] = [];
    const held = ["u1", "u2", "u3", "u4"].map((name) => controlled(started, name));
    const runs = held.map((c) => gate.run("untrusted", c.task));
    await tick();
    // Both places were free when u1 and u2 came; u3 and u4 wait: that is a flood.
    expect(started).toEqual(["u1", "u2"]);
    held[0]!.finish();
    await tick();
    // u1's place stays free for trusted work, and the full untrusted queue admits nobody.
    expect(gate.stats()).toEqual({ running: 1, waiting: { trusted: 0, untrusted: 2 } });
    expect(gate.flooding()).toBe(true);
    expect(gate.admits("untrusted")).toBe(false);
    const trusted = controlled(started, "t1");
    const trustedRun = gate.run("trusted", trusted.task);
    await tick();
    expect(started).toEqual(["u1", "u2", "t1"]);
    trusted.finish();
    held[1]!.finish();
    await tick();
    // u2's end frees both places: u3 starts, and with one left waiting the flood is over, so u4 too.
    expect(started).toEqual(["u1", "u2", "t1", "u3", "u4"]);
    expect(gate.flooding()).toBe(false);
    for (const c of held) c.finish();
    expect(await Promise.all([...runs, trustedRun])).toEqual(["u1", "u2", "u3", "u4", "t1"]);
  });

  it("during a flood untrusted tasks keep to floodPlaces, however wide the gate, and wait while trusted ones run", async () => {
    const gate = createPriorityGate(4, { floodAt: 2, floodPlaces: 1 });
    const started: string[] = [];
    const untrusted = ["u1", "u2", "u3", "u4", "u5", "u6"].map((name) => controlled(started, name));
    const untrustedRuns = untrusted.map((c) => gate.run("untrusted", c.task));
    const trusted = ["t1", "t2"].map((name) => controlled(started, name));
    const trustedRuns = trusted.map((c) => gate.run("trusted", c.task));
    await tick();
    // Four places: u1 to u4 run; u5 and u6 wait, and two waiting is a flood here.
    expect(started).toEqual(["u1", "u2", "u3", "u4"]);
    for (const c of untrusted.slice(0, 3)) c.finish();
    await tick();
    // Three places free: the trusted ones take two; with u4 running, untrusted are at their
    // flood share of one, so the last place stays free for the next trusted check.
    expect(started).toEqual(["u1", "u2", "u3", "u4", "t1", "t2"]);
    expect(gate.stats()).toEqual({ running: 3, waiting: { trusted: 0, untrusted: 2 } });
    untrusted[3]!.finish();
    await tick();
    // Two places free and none used by untrusted tasks, but while trusted ones run, none starts.
    expect(gate.stats()).toEqual({ running: 2, waiting: { trusted: 0, untrusted: 2 } });
    for (const c of trusted) c.finish();
    await tick();
    // u5 starts as the flood's one place; one left waiting is no flood, so u6 starts too.
    expect(started).toEqual(["u1", "u2", "u3", "u4", "t1", "t2", "u5", "u6"]);
    for (const c of [...untrusted, ...trusted]) c.finish();
    expect(await Promise.all([...untrustedRuns, ...trustedRuns])).toEqual(["u1", "u2", "u3", "u4", "u5", "u6", "t1", "t2"]);
  });

  it("is one place wider than the pool threads that can hash side by side (pool and cores, the fewer)", () => {
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "2" }, 2)).toBe(3);
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "1" }, 2)).toBe(2);
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "8" }, 2)).toBe(3);
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "8" }, 16)).toBe(9);
    // libuv's default pool of 4, as an app that embeds the library has it.
    expect(hashingPlaces({}, 2)).toBe(3);
    expect(hashingPlaces({}, 16)).toBe(5);
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "nonsense" }, 16)).toBe(5);
    expect(hashingPlaces({ UV_THREADPOOL_SIZE: "0" }, 16)).toBe(5);
  });

  it("the argon2 hasher verifies through it: under a queue of untrusted checks, a trusted one finishes early", async () => {
    const hasher = await createArgon2Hasher({ concurrency: 1 });
    const stored = await hasher.hash("correct horse");
    const order: string[] = [];
    const untrusted = Array.from({ length: 6 }, (_, i) =>
      hasher.verify(stored, "wrong guess").then((ok) => { order.push(`u${i}:${ok}`); }));
    const trusted = hasher.verify(stored, "correct horse", { lane: "trusted" }).then((ok) => { order.push(`t:${ok}`); });
    await Promise.all([...untrusted, trusted]);
    // Only the untrusted check already running when it arrived finished before it.
    expect(order[0]).toBe("u0:false");
    expect(order[1]).toBe("t:true");
    expect(order).toHaveLength(7);
  });
});
