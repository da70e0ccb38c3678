/** Issue 8, defect 4 (pure part): a slot names its owner, and a dead owner's slots stop counting. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { onFailure, reserve, slotOwners, thresholdFor, type Slot } from "../../src/lockout/index.ts";
import { MIN, SEC, T0, counter, policy, state } from "./fixtures.ts";

const p = policy();
const owned = (id: string, owner: string | undefined, expiresAt = T0 + MIN): Slot =>
  owner === undefined ? { id, expiresAt } : { id, expiresAt, owner };

describe("slot owners", () => {
  it("a reserved slot records who holds it", () => {
    const r = reserve(state(), "password", p, T0, "s1", { owner: "inst-a", deadOwners: [] });
    expect(r.kind === "reserved" && r.state.password.slots).toEqual([{ id: "s1", expiresAt: T0 + 30 * SEC, owner: "inst-a" }]);
  });

  it("slots of dead owners are reclaimed; live owners' and ownerless (pre-004) slots still count", () => {
    const slots = [owned("a", "dead"), owned("b", "dead"), owned("c", "live"), owned("d", undefined), owned("e", "live")];
    const s = state({ password: counter({ slots }) });
    expect(reserve(s, "password", p, T0, "x", { owner: "me", deadOwners: [] })).toEqual({ kind: "wait" });
    const r = reserve(s, "password", p, T0, "x", { owner: "me", deadOwners: ["dead"] });
    expect(r.kind).toBe("reserved");
    if (r.kind === "reserved") {
      expect(r.state.password.slots.map((slot) => slot.id)).toEqual(["c", "d", "e", "x"]);
      expect(r.attemptsRemaining).toBe(4);
    }
    expect(slotOwners(s, "password").sort()).toEqual(["dead", "live"]);
    expect(slotOwners(s, "mfa")).toEqual([]);
  });

  it("reclaiming never lets failures plus slots in flight exceed the threshold", () => {
    const slotArb = fc.record({ id: fc.string({ maxLength: 4 }), owner: fc.constantFrom("a", "b", "c", undefined) });
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 5 }), fc.array(slotArb, { maxLength: 8 }), fc.subarray(["a", "b", "c"]),
      (failures, raw, dead) => {
        const slots = raw.map((x, i) => owned(`${x.id}${i}`, x.owner));
        const s = state({ password: counter({ failures, lastFailedAt: failures > 0 ? T0 : null, slots }) });
        const r = reserve(s, "password", p, T0, "new", { owner: "me", deadOwners: dead });
        const alive = slots.filter((x) => x.owner === undefined || !dead.includes(x.owner)).length;
        const threshold = thresholdFor(p, "user", "password");
        if (failures + alive >= threshold) expect(r.kind).toBe("wait");
        else {
          expect(r.kind).toBe("reserved");
          if (r.kind === "reserved") expect(r.state.password.failures + r.state.password.slots.length).toBeLessThanOrEqual(threshold);
        }
      },
    ), { seed: 8, numRuns: 500 });
  });

  it("a failure recorded after its slot was reclaimed still counts, and never past the lock", () => {
    const s = state({ password: counter({ failures: 4, lastFailedAt: T0 }) });
    const d = onFailure(s, "password", p, T0 + SEC, { slotId: "gone", isLastActiveAdmin: false });
    expect(d.state.password.failures).toBe(5);
    expect(d.state.lockedUntil).not.toBeNull();
    const again = onFailure(d.state, "password", p, T0 + 2 * SEC, { slotId: "also-gone", isLastActiveAdmin: false });
    expect(again.state.password.failures).toBe(5);
    expect(again.effects).toEqual([]);
  });
});
