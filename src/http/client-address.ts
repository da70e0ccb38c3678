import { isIP, isIPv4 } from "node:net";

/** Expands an IPv6 address (no zone) to its eight 16-bit groups. */
function ipv6Groups(address: string): number[] {
  let text = address;
  // An embedded IPv4 tail (::ffff:192.0.2.1) is written as its two groups first.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split("::") as [string, string | undefined];
  const parse = (part: string | undefined): number[] => (part ? part.split(":").map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(rest);
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

/**
 * The key a client is throttled by: an IPv4 address as it is (IPv4-mapped IPv6 included), an
 * IPv6 address by its /64, since one subscriber usually holds a whole /64 and could otherwise
 * step through 2^64 addresses. Anything unparseable shares one key rather than escaping.
 *
 * @example clientKey("2001:db8:1:2:aaaa::1") === "2001:db8:1:2::/64"
 */
export function clientKey(ip: string | null | undefined): string {
  if (typeof ip !== "string") return "unknown";
  const address = ip.split("%")[0]!;
  if (isIPv4(address)) return address;
  if (isIP(address) !== 6) return "unknown";
  const groups = ipv6Groups(address);
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(":")}::/64`;
}
