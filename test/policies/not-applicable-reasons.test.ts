import type { ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import {
  catalogConsistent,
  virtualServiceMatchesCatalog,
  virtualServiceSubsetsExist,
  virtualServiceWeightsSumTo100,
} from "../../policies/catalog";
import { istioDestinationRuleTls, istioGatewayTls, istioNoAllowAll } from "../../policies/security-istio";
import { networkNoPublicAdminPorts, networkNoUnrestrictedEgress } from "../../policies/security-network";
import type { PlatformPolicy } from "../../policies/support";
import { platform, resource } from "./fixtures/resource";

/**
 * What the engine shows for a policy that has nothing to check: the reason given to
 * `notApplicable()` (the harness drops it, so it is read here by calling the policy directly).
 */

class Skipped {
  constructor(readonly reason: string | undefined) {}
}
const notApplicable = (reason?: string): never => {
  throw new Skipped(reason);
};

/** The reason a stack policy gives over `resources` and `config`, or "applies" when it does not skip. */
function stackReason(policy: PlatformPolicy, resources: ReturnType<typeof resource>[], config: object = {}): string | undefined {
  const args = {
    resources: resources.map((r) => ({ ...r, props: r.inputs })),
    getConfig: () => config,
    notApplicable,
    stackTags: new Map(),
  } as unknown as StackValidationArgs;
  try {
    (policy as { validateStack: (a: StackValidationArgs, report: () => void) => void }).validateStack(args, () => {});
  } catch (e) {
    if (e instanceof Skipped) return e.reason;
    throw e;
  }
  return "applies";
}

const VIRTUAL_SERVICE = resource("kubernetes:networking.istio.io/v1:VirtualService", "vs", {
  apiVersion: "networking.istio.io/v1",
  kind: "VirtualService",
  metadata: { name: "fraud-scorer", namespace: "models" },
  spec: { hosts: ["fraud-scorer"], http: [{ route: [{ destination: { host: "fraud-scorer" } }] }] },
});

describe("policies with nothing to check say why", () => {
  const cases: [PlatformPolicy, string][] = [
    [networkNoPublicAdminPorts, "no security groups or firewalls in the stack"],
    [networkNoUnrestrictedEgress, "no AWS security groups in the stack"],
    [istioNoAllowAll, "no AuthorizationPolicies in the stack"],
    [istioDestinationRuleTls, "no DestinationRules in the stack"],
    [istioGatewayTls, "no Gateways in the stack"],
    [virtualServiceSubsetsExist, "no VirtualServices in the stack"],
    [catalogConsistent, "no catalog in the policy config (write it with policyPackConfig from policies/config.ts)"],
    [virtualServiceMatchesCatalog, "no models in the policy config's catalog"],
  ];
  for (const [policy, reason] of cases)
    it(`${policy.name}, over no resources and no config: "${reason}"`, () => {
      expect(stackReason(policy, [])).toBe(reason);
    });

  it("only AWS groups make the egress rule apply: a GCP firewall does not", () => {
    const firewall = resource("gcp:compute/firewall:Firewall", "fw", { allows: [{ protocol: "all" }] });
    expect(stackReason(networkNoUnrestrictedEgress, [firewall])).toBe("no AWS security groups in the stack");
    expect(stackReason(networkNoPublicAdminPorts, [firewall])).toBe("applies");
  });

  it("a catalog without models leaves nothing to match; one with models applies", () => {
    const { catalog } = platform("local");
    expect(stackReason(virtualServiceMatchesCatalog, [VIRTUAL_SERVICE], { catalog: { ...catalog, models: {} } })).toBe(
      "no models in the policy config's catalog",
    );
    expect(stackReason(virtualServiceMatchesCatalog, [VIRTUAL_SERVICE], { catalog, servingNamespace: "models" })).toBe("applies");
  });

  it("the weights rule checks VirtualServices only", () => {
    const { validateResource } = virtualServiceWeightsSumTo100 as {
      validateResource: (a: ResourceValidationArgs, report: () => void) => void;
    };
    const reason = (type: string) => {
      try {
        validateResource({ type, props: VIRTUAL_SERVICE.inputs, name: "r", notApplicable } as unknown as ResourceValidationArgs, () => {});
      } catch (e) {
        if (e instanceof Skipped) return e.reason;
        throw e;
      }
      return "applies";
    };
    expect(reason("kubernetes:networking.istio.io/v1:DestinationRule")).toBe("not a VirtualService");
    expect(reason("kubernetes:networking.istio.io/v1:VirtualService")).toBe("applies");
  });
});
