import { describe, expect, it } from "vitest";
import { describeUserAgent } from "../src/user-agent.ts";

describe("describeUserAgent", () => {
  it("names browser and system in words", () => {
    expect(describeUserAgent(
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    )).toBe("Chrome 131 on Windows 10");
    expect(describeUserAgent(
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    )).toBe("Mobile Safari 17 on iOS 17.5, iPhone");
    expect(describeUserAgent("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")).toBe("Firefox 133 on Linux");
  });

  it("falls back to the product token for tools, and to words for nothing", () => {
    expect(describeUserAgent("curl/8.5.0")).toBe("curl/8.5.0");
    expect(describeUserAgent(null)).toBe("an unknown browser");
    expect(describeUserAgent("")).toBe("an unknown browser");
  });
});
