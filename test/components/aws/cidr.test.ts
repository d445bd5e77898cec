import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCidr, parseCidr, subnet } from "../../../components/aws";

describe("CIDR arithmetic", () => {
  it("parses and formats a CIDR unchanged", () => {
    expect(formatCidr(parseCidr("10.20.0.0/16"))).toBe("10.20.0.0/16");
    expect(parseCidr("10.20.0.0/16")).toEqual({ base: 10 * 2 ** 24 + 20 * 2 ** 16, prefix: 16 });
  });

  it("splits like Terraform's cidrsubnet", () => {
    const vpc = parseCidr("10.10.0.0/16");
    expect(formatCidr(subnet(vpc, 3, 0))).toBe("10.10.0.0/19");
    expect(formatCidr(subnet(vpc, 3, 5))).toBe("10.10.160.0/19");
    expect(formatCidr(subnet(subnet(vpc, 3, 7), 5, 2))).toBe("10.10.226.0/24");
  });

  it("refuses host bits, bad octets and text that is not a CIDR, naming the fix", () => {
    expect(() => parseCidr("10.0.0.1/16")).toThrow(/host bits set; use the network address 10\.0\.0\.0\/16/);
    expect(() => parseCidr("10.0.300.0/16")).toThrow(/octets are 0\.\.255/);
    expect(() => parseCidr("10.0.0.0")).toThrow(/write it like 10\.0\.0\.0\/16/);
    expect(() => subnet(parseCidr("10.0.0.0/16"), 3, 8)).toThrow(/outside 0\.\.7/);
  });

  it("gives distinct subnets that lie inside their parent and never overlap", () => {
    fc.assert(
      fc.property(fc.integer({ min: 8, max: 24 }), fc.integer({ min: 1, max: 6 }), fc.nat(), (prefix, newBits, seed) => {
        const parent = { base: (seed % 2 ** prefix) * 2 ** (32 - prefix), prefix };
        const count = Math.min(2 ** newBits, 8);
        const subs = Array.from({ length: count }, (_, i) => subnet(parent, newBits, i));
        const size = 2 ** (32 - prefix - newBits);
        for (const [i, s] of subs.entries()) {
          expect(s.base).toBeGreaterThanOrEqual(parent.base);
          expect(s.base + size).toBeLessThanOrEqual(parent.base + 2 ** (32 - prefix));
          if (i > 0) expect(s.base).toBe((subs[i - 1] as { base: number }).base + size);
          expect(parseCidr(formatCidr(s))).toEqual(s);
        }
      }),
    );
  });
});
