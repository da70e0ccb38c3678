/** The Have I Been Pwned range client, against a local stub range server (never the internet). */
import { afterEach, describe, expect, it, vi } from "vitest";
import { countInRange, createHibpClient, MAX_RANGE_BYTES, sha1Hex, type RangeFetch } from "../../src/auth/breached.ts";
import { deadUrl, startHibpStub, type HibpStub } from "../support/hibp-stub.ts";

const BREACHED = "harbor velvet cactus lantern";
const CLEAN = "amber kettle on a windy ridge";

describe("HIBP range client", () => {
  let stub: HibpStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it("SHA-1 in upper-case hex, as the range API lists it (known answer)", () => {
    expect(sha1Hex("password")).toBe("5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8");
  });

  it("sends only the 5-character prefix, with Add-Padding, and finds a breached password", async () => {
    stub = await startHibpStub({ breached: { [BREACHED]: 42 } });
    const hibp = createHibpClient({ baseUrl: stub.url });
    expect(await hibp.lookup(BREACHED)).toEqual({ kind: "breached", count: 42 });
    expect(await hibp.lookup(CLEAN)).toEqual({ kind: "not_found" });

    expect(stub.requests).toHaveLength(2);
    for (const [request, password] of stub.requests.map((r, i) => [r, [BREACHED, CLEAN][i] as string] as const)) {
      const hash = sha1Hex(password);
      expect(request.method).toBe("GET");
      expect(request.url).toBe(`/range/${hash.slice(0, 5)}`);
      expect(request.headers["add-padding"]).toBe("true");
      expect(request.body).toBe("");
      // Nothing else of the hash or the password leaves the server, in any header either.
      const everything = JSON.stringify(request);
      expect(everything).not.toContain(hash.slice(5, 12));
      expect(everything.toLowerCase()).not.toContain(hash.slice(5, 12).toLowerCase());
      expect(everything).not.toContain(password);
    }
  });

  it("padding entries (count 0) are not breaches", () => {
    const suffix = sha1Hex(CLEAN).slice(5);
    expect(countInRange(`${suffix}:0\r\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA:5`, suffix)).toBe(0);
    expect(countInRange(`${suffix.toLowerCase()}:7\n`, suffix)).toBe(7);
    expect(countInRange("<html>captive portal</html>", suffix)).toBeNull();
    expect(countInRange("", suffix)).toBeNull();
  });

  it("an unreachable, failing, hanging or garbled range API is unavailable, never an exception", async () => {
    const refused = await createHibpClient({ baseUrl: await deadUrl() }).lookup(CLEAN);
    expect(refused).toMatchObject({ kind: "unavailable" });
    expect((refused as { reason: string }).reason).toMatch(/ECONNREFUSED|fetch failed/);

    stub = await startHibpStub({ behaviour: 503 });
    expect(await createHibpClient({ baseUrl: stub.url }).lookup(CLEAN)).toEqual({ kind: "unavailable", reason: "HTTP 503" });
    await stub.close();

    stub = await startHibpStub({ behaviour: "hang" });
    const startedAt = performance.now();
    expect(await createHibpClient({ baseUrl: stub.url, timeoutMs: 150 }).lookup(CLEAN)).toEqual({ kind: "unavailable", reason: "timed out" });
    const waited = performance.now() - startedAt;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(5_000);

    await stub.close();

    // A server that streams without end is cut off at 1 MiB, well before the timeout.
    stub = await startHibpStub({ behaviour: "endless" });
    expect(await createHibpClient({ baseUrl: stub.url, timeoutMs: 60_000 }).lookup(CLEAN))
      .toEqual({ kind: "unavailable", reason: `the answer was larger than ${MAX_RANGE_BYTES} bytes` });
    const huge: RangeFetch = async () => ({ status: 200, text: async () => "0".repeat(MAX_RANGE_BYTES + 1) });
    expect(await createHibpClient({ baseUrl: "http://unused", fetch: huge }).lookup(CLEAN))
      .toEqual({ kind: "unavailable", reason: `the answer was larger than ${MAX_RANGE_BYTES} bytes` });

    const garbled: RangeFetch = async () => ({ status: 200, text: async () => "not a range" });
    expect(await createHibpClient({ baseUrl: "http://unused", fetch: garbled }).lookup(CLEAN))
      .toEqual({ kind: "unavailable", reason: "the answer listed no hashes" });
    const throwing: RangeFetch = async () => { throw new TypeError("fetch failed"); };
    expect(await createHibpClient({ baseUrl: "http://unused", fetch: throwing }).lookup(CLEAN))
      .toEqual({ kind: "unavailable", reason: "fetch failed" });
  });

  it("the default timeout is short (2 s), passed to fetch as an abort signal", async () => {
    const timeout = vi.spyOn(AbortSignal, "timeout");
    let signal: AbortSignal | undefined;
    const spy: RangeFetch = async (_url, init) => {
      signal = init.signal;
      return { status: 200, text: async () => `${sha1Hex(CLEAN).slice(5)}:0` };
    };
    expect(await createHibpClient({ baseUrl: "http://unused", fetch: spy }).lookup(CLEAN)).toEqual({ kind: "not_found" });
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
    expect(timeout).toHaveBeenCalledWith(2_000);
    timeout.mockRestore();
  });
});
