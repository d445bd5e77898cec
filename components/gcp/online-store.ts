import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import type { OnlineStoreConnection } from "../types";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

export interface MemorystoreArgs extends GcpComponentArgs {
  /** The VPC the instance is reachable from, through private services access. */
  networkId: pulumi.Input<string>;
  /** The private services peering; the instance cannot be created before it exists. */
  privateServices: pulumi.Resource;
}

/**
 * Memorystore's version for the spec's Redis engine version. The spec's default (7.1) is
 * ElastiCache's numbering; Memorystore's nearest is 7.2, wire-compatible for the commands the
 * feature store uses (HSET/HMGET, EXPIRE, pipelines).
 */
export function memorystoreVersion(engineVersion: string): string {
  const [major, minor = "0"] = engineVersion.split(".");
  if (major === "7") return Number(minor) >= 1 ? "REDIS_7_2" : "REDIS_7_0";
  if (major === "6") return "REDIS_6_X";
  throw new pulumi.InputPropertiesError({
    message: "unsupported Memorystore version",
    errors: [
      { propertyPath: "onlineStore.engineVersion", reason: `"${engineVersion}" has no Memorystore counterpart; use 7.2, 7.0 or 6.x` },
    ],
  });
}

/** The instance as plain settings. */
export interface MemorystoreSettings {
  region: string;
  tier: "STANDARD_HA" | "BASIC";
  memorySizeGb: number;
  redisVersion: string;
  authEnabled: true;
  transitEncryptionMode: "SERVER_AUTHENTICATION";
  connectMode: "PRIVATE_SERVICE_ACCESS";
  persistenceConfig: { persistenceMode: string; rdbSnapshotPeriod?: string };
  maintenancePolicy: { weeklyMaintenanceWindows: { day: string; startTime: { hours: number; minutes: number } }[] };
  deletionProtection: boolean;
  labels: Record<string, string>;
}

/**
 * Plain Memorystore settings. Secure defaults, resolved once: AUTH on, TLS on (server
 * authentication; clients connect with rediss:// on port 6378), reachable only through the
 * VPC's private services access. Prod is STANDARD_HA (a replica in another zone with
 * automatic failover) with daily RDB snapshots; dev is a single BASIC node without persistence,
 * because the online store can always be rebuilt by materialization.
 */
export function memorystoreSettings(stack: StackSpec): MemorystoreSettings {
  const { region, labels, prod } = gcpTarget(stack);
  if (stack.onlineStore.kind !== "redis") {
    throw new pulumi.InputPropertiesError({
      message: "unsupported online store",
      errors: [
        { propertyPath: "onlineStore.kind", reason: `"${stack.onlineStore.kind}" is not available on GCP; use redis (Memorystore)` },
      ],
    });
  }
  if (stack.onlineStore.shards) {
    // A sharded store is a Memorystore Cluster (memorystore-cluster.ts), never an instance.
    throw new Error("memorystoreSettings: a stack with onlineStore.shards gets a Memorystore Cluster, not an instance");
  }
  const ha = stack.multiAz;
  return {
    region,
    tier: ha ? "STANDARD_HA" : "BASIC",
    memorySizeGb: stack.onlineStore.memorySizeGb,
    redisVersion: memorystoreVersion(stack.onlineStore.engineVersion),
    authEnabled: true,
    transitEncryptionMode: "SERVER_AUTHENTICATION",
    connectMode: "PRIVATE_SERVICE_ACCESS",
    persistenceConfig: prod ? { persistenceMode: "RDB", rdbSnapshotPeriod: "TWENTY_FOUR_HOURS" } : { persistenceMode: "DISABLED" },
    maintenancePolicy: { weeklyMaintenanceWindows: [{ day: "SUNDAY", startTime: { hours: 3, minutes: 0 } }] },
    deletionProtection: prod,
    labels,
  };
}

/** The online feature store on GCP: a Memorystore for Redis instance with AUTH and TLS. */
export class MemorystoreOnlineStore extends pulumi.ComponentResource {
  readonly instance: gcp.redis.Instance;
  readonly connection: OnlineStoreConnection;
  /** PEM of the instance's server CA: TLS clients must trust it (Memorystore uses its own CA). */
  readonly caCertificate: pulumi.Output<string>;

  constructor(name: string, args: MemorystoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:MemorystoreOnlineStore", name, {}, opts);
    const project = projectInput(args);
    const settings = memorystoreSettings(args.stack);
    this.instance = new gcp.redis.Instance(
      `${name}-redis`,
      { project, ...settings, authorizedNetwork: args.networkId, displayName: `Online feature store of stack ${args.stack.name}` },
      { ...statefulOptions(args.stack, this), dependsOn: [args.privateServices] },
    );
    const url = pulumi.interpolate`rediss://${this.instance.host}:${this.instance.port}`;
    const password = pulumi.secret(this.instance.authString);
    this.caCertificate = this.instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert).join("\n"));
    this.connection = {
      kind: "redis",
      url,
      password,
      caCertificate: this.caCertificate,
      serviceAccountAnnotations: pulumi.output<Record<string, string>>({}),
    };
    this.registerOutputs({ url, password, caCertificate: this.caCertificate, host: this.instance.host, port: this.instance.port });
  }
}
