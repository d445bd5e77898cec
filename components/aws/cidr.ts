/** Subnet arithmetic for carving a VPC; parsing and formatting live with the definition (definition/cidr.ts). */
import { type Cidr, formatCidr, parseCidr } from "../../definition";

export { type Cidr, formatCidr, parseCidr };

/** The `index`-th subnet of `newBits` more prefix bits inside `parent` (Terraform's cidrsubnet). */
export function subnet(parent: Cidr, newBits: number, index: number): Cidr {
  const prefix = parent.prefix + newBits;
  if (prefix > 32) throw new Error(`cannot split a /${parent.prefix} by ${newBits} more bits`);
  if (index < 0 || index >= 2 ** newBits)
    throw new Error(`subnet index ${index} is outside 0..${2 ** newBits - 1} for a /${parent.prefix} split into /${prefix}`);
  return { base: parent.base + index * 2 ** (32 - prefix), prefix };
}
