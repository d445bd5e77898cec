/**
 * IPv4 CIDR arithmetic for carving a VPC into subnets. Hand-written because it is twenty lines of
 * integer math and the npm CIDR libraries pull in more than they save; tested directly.
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

/** The `index`-th subnet of `newBits` more prefix bits inside `parent` (Terraform's cidrsubnet). */
export function subnet(parent: Cidr, newBits: number, index: number): Cidr {
  const prefix = parent.prefix + newBits;
  if (prefix > 32) throw new Error(`cannot split a /${parent.prefix} by ${newBits} more bits`);
  if (index < 0 || index >= 2 ** newBits)
    throw new Error(`subnet index ${index} is outside 0..${2 ** newBits - 1} for a /${parent.prefix} split into /${prefix}`);
  return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}
