import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { clientKey } from "../../src/http/client-address.ts";

describe("DEADBOLT_TRUST_PROXY and the throttle key", () => {
  it("parses unset, a hop count, and addresses or CIDRs", () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ DEADBOLT_TRUST_PROXY: "2" }).trustProxy).toBe(2);
    expect(loadConfig({ DEADBOLT_TRUST_PROXY: " 10.0.0.0/8, ::1 ,192.0.2.7" }).trustProxy).toEqual(["10.0.0.0/8", "::1", "192.0.2.7"]);
    expect(loadConfig({}).throttlePerMinute).toBe(600);
  });

  it.each(["0", "yes", "10.0.0.0/33", "10.0.0.1/8/2", "::1/129", "localhost", ","])("refuses %j with one line naming the variable", (value) => {
    expect(() => loadConfig({ DEADBOLT_TRUST_PROXY: value })).toThrow(ConfigError);
    expect(() => loadConfig({ DEADBOLT_TRUST_PROXY: value })).toThrow(/^DEADBOLT_TRUST_PROXY=.* is invalid: expected a hop count/);
  });

  it("keys IPv4 by address and IPv6 by /64", () => {
    expect(clientKey("203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(clientKey("2001:db8:a:b:1:2:3:4")).toBe("2001:db8:a:b::/64");
    expect(clientKey("2001:db8:a:b::")).toBe("2001:db8:a:b::/64");
    expect(clientKey("2001:DB8:0A:0B::1")).toBe("2001:db8:a:b::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey("2001:db8::ffff:1.2.3.4")).toBe("2001:db8:0:0::/64");
    expect(clientKey("not an address")).toBe("unknown");
    expect(clientKey(undefined)).toBe("unknown");
  });
});
