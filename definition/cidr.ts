/**
 * IPv4 CIDR arithmetic and the address ranges that can never be a client's source address.
 * Hand-written because it is a few lines of integer math and the npm CIDR libraries pull in more
 * than they save; tested directly. Pure: the stack checks and the AWS network both use it.
 */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) throw new Error(`"${text}" is not an IPv4 CIDR; write it like 10.0.0.0/16`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`"${text}" is not an IPv4 CIDR; octets are 0..255 and the prefix 0..32`);
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) {
    throw new Error(`"${text}" has host bits set; use the network address ${formatCidr({ base: base - (base % size), prefix })}`);
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const b = cidr.base;
  return `${Math.floor(b / 2 ** 24) % 256}.${Math.floor(b / 2 ** 16) % 256}.${Math.floor(b / 2 ** 8) % 256}.${b % 256}/${cidr.prefix}`;
}

/** Whether two CIDRs share at least one address. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  const end = (c: Cidr) => c.base + 2 ** (32 - c.prefix);
  return a.base < end(b) && b.base < end(a);
}

/**
 * Ranges a request to a cloud API endpoint can never come from (RFC 6890 special-purpose
 * registry): documentation examples, private and shared space (a public endpoint sees the NAT's
 * public address, never these; EKS refuses them), loopback, link-local, benchmarking, multicast
 * and reserved. An allow-list entry inside one of them admits nobody, and every call times out.
 */
export const UNREACHABLE_RANGES: readonly { cidr: string; what: string }[] = [
  { cidr: "192.0.2.0/24", what: "an RFC 5737 documentation range (TEST-NET-1)" },
  { cidr: "198.51.100.0/24", what: "an RFC 5737 documentation range (TEST-NET-2)" },
  { cidr: "203.0.113.0/24", what: "an RFC 5737 documentation range (TEST-NET-3)" },
  { cidr: "0.0.0.0/8", what: 'the RFC 1122 "this network" range' },
  { cidr: "10.0.0.0/8", what: "RFC 1918 private space, which a public endpoint never sees" },
  { cidr: "172.16.0.0/12", what: "RFC 1918 private space, which a public endpoint never sees" },
  { cidr: "192.168.0.0/16", what: "RFC 1918 private space, which a public endpoint never sees" },
  { cidr: "100.64.0.0/10", what: "RFC 6598 carrier-grade NAT space, which a public endpoint never sees" },
  { cidr: "127.0.0.0/8", what: "the loopback range" },
  { cidr: "169.254.0.0/16", what: "the link-local range" },
  { cidr: "192.0.0.0/24", what: "the IETF protocol assignments range" },
  { cidr: "198.18.0.0/15", what: "the RFC 2544 benchmarking range" },
  { cidr: "224.0.0.0/4", what: "multicast space" },
  { cidr: "240.0.0.0/4", what: "reserved space" },
];

/** Why a CIDR cannot admit any real client, or undefined when it can. 0.0.0.0/0 is left to the policies. */
export function unreachableRange(cidr: Cidr): string | undefined {
  if (cidr.prefix === 0) return undefined;
  for (const range of UNREACHABLE_RANGES) {
    const r = parseCidr(range.cidr);
    // Inside a reserved range (or a reserved range inside it, for wide entries like 192.0.0.0/16 would be).
    if (overlaps(cidr, r) && cidr.prefix >= r.prefix) return `${range.what}, ${range.cidr}`;
  }
  return undefined;
}
