import type { GcpStackName } from "./fixture";

/**
 * What each gcp stack must produce, written out from stacks/Pulumi.gcp-*.yaml and the
 * environment defaults (definition/defaults.ts) rather than recomputed with the code under test.
 */
export const EXPECTED: Record<
  GcpStackName,
  {
    project: string;
    region: string;
    prod: boolean;
    subnet: string;
    pods: string;
    services: string;
    privateEndpoint: boolean;
    channel: string;
    authorizedCidrs: string[];
    zones: string[];
    system: { machineType: string; min: number; max: number };
    gpu: { machineType: string; max: number; spot: boolean };
    redisTier: string;
    redisMemoryGb: number;
    sqlTier: string;
    sqlAvailability: string;
    labels: Record<string, string>;
  }
> = {
  "gcp-dev": {
    project: "mlops-dev-4821",
    region: "us-central1",
    prod: false,
    subnet: "10.30.0.0/20",
    pods: "10.64.0.0/14",
    services: "10.68.0.0/20",
    privateEndpoint: false,
    channel: "REGULAR",
    authorizedCidrs: ["REPLACE-WITH-YOUR-EGRESS-CIDR"],
    zones: ["us-central1-a", "us-central1-b"],
    system: { machineType: "e2-standard-4", min: 1, max: 3 },
    gpu: { machineType: "g2-standard-8", max: 2, spot: true },
    redisTier: "BASIC",
    redisMemoryGb: 1,
    sqlTier: "db-f1-micro",
    sqlAvailability: "ZONAL",
    labels: { team: "ml-platform", cost_center: "cc-ml-1001", environment: "dev", "managed-by": "pulumi", stack: "gcp-dev" },
  },
  "gcp-prod": {
    project: "mlops-prod-7730",
    region: "europe-west4",
    prod: true,
    subnet: "10.40.0.0/20",
    pods: "10.72.0.0/14",
    services: "10.76.0.0/20",
    privateEndpoint: true,
    channel: "STABLE",
    authorizedCidrs: [],
    zones: ["europe-west4-a", "europe-west4-b", "europe-west4-c"],
    system: { machineType: "n2-standard-4", min: 3, max: 9 },
    gpu: { machineType: "g2-standard-8", max: 6, spot: false },
    redisTier: "STANDARD_HA",
    redisMemoryGb: 5,
    sqlTier: "db-custom-2-7680",
    sqlAvailability: "REGIONAL",
    labels: { team: "ml-platform", cost_center: "cc-ml-1001", environment: "prod", "managed-by": "pulumi", stack: "gcp-prod" },
  },
};
