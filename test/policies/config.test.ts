import { describe, expect, it } from "vitest";
import { configValues, enforcementFor, policyPackConfig } from "../../policies/config";
import { allPolicies } from "../../policies/policies";
import type { PlatformPolicy } from "../../policies/support";
import { platform, policy } from "./fixtures/resource";

const versioned = policy("s3-bucket-versioned");
const prod = { environment: "prod", policies: {} } as const;

describe("enforcementFor", () => {
  it("reports a remediate policy as mandatory, as the engine does", () => {
    expect(enforcementFor({ ...versioned, enforcementLevel: "remediate" }, prod)).toBe("mandatory");
  });

  it("takes the stack file's level first, then the dev default in dev, then advisory when the policy names none", () => {
    const devAdvisory: PlatformPolicy = { ...versioned, enforcementLevel: "mandatory", devEnforcementLevel: "advisory" };
    expect(enforcementFor(devAdvisory, { environment: "dev", policies: {} })).toBe("advisory");
    expect(enforcementFor(devAdvisory, prod)).toBe("mandatory");
    expect(enforcementFor(devAdvisory, { environment: "prod", policies: { "s3-bucket-versioned": "disabled" } })).toBe("disabled");
    expect(enforcementFor({ ...versioned, enforcementLevel: undefined }, prod)).toBe("advisory");
  });
});

describe("policyPackConfig", () => {
  const { stack, catalog } = platform("aws-prod");
  const everyName = allPolicies
    .map((p) => p.name)
    .sort()
    .join(", ");

  it("refuses one unknown policy name in the stack file, listing the real names sorted", () => {
    expect(() => policyPackConfig({ ...stack, policies: { "s3-bucket-versionned": "advisory" } }, catalog, [versioned])).toThrow(
      `stacks/Pulumi.aws-prod.yaml: policies: "s3-bucket-versionned" is not a policy of the pack; use one of ${everyName}`,
    );
  });

  it("refuses several, saying so in the plural", () => {
    expect(() => policyPackConfig({ ...stack, policies: { a: "advisory", b: "mandatory" } }, catalog, [versioned])).toThrow(
      `stacks/Pulumi.aws-prod.yaml: policies: "a", "b" are not policies of the pack; use one of ${everyName}`,
    );
  });
});

describe("configValues", () => {
  const withDefaults: PlatformPolicy = {
    ...versioned,
    configSchema: { properties: { maxGpus: { type: "number", default: 8 }, environment: { type: "string" } } },
  };

  it("gives the schema's defaults, and only the properties that have one, when the entry is missing or only a level", () => {
    expect(configValues(withDefaults, undefined)).toStrictEqual({ maxGpus: 8 });
    expect(configValues(withDefaults, "mandatory")).toStrictEqual({ maxGpus: 8 });
  });

  it("overlays the entry's values on the defaults, without its enforcementLevel", () => {
    expect(configValues(withDefaults, { enforcementLevel: "advisory", maxGpus: 2, environment: "prod" })).toStrictEqual({
      maxGpus: 2,
      environment: "prod",
    });
  });
});
