import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { OnlineStoreSpec, StackSpec } from "../../definition";
import { awsDefaults, awsName, awsTags, statefulOptions } from "./defaults";
import { storeSecurityGroup } from "./security-group";

export const REDIS_PORT = 6379;

/** The replication group's settings as data: TLS and AUTH always; failover across AZs when the stack is multi-AZ and has replicas. */
export interface RedisSettings {
  engine: "redis";
  engineVersion: string;
  nodeType: string;
  port: number;
  /** Primary plus replicas (one node set); absent in cluster mode. */
  numCacheClusters?: number;
  /** Cluster mode enabled: shards (node groups) and replicas in each; the parameter group turns cluster mode on. */
  clusterMode?: { numNodeGroups: number; replicasPerNodeGroup: number; parameterGroupName: string };
  automaticFailoverEnabled: boolean;
  multiAzEnabled: boolean;
  transitEncryptionEnabled: true;
  /** "required": plaintext connections are refused, not merely discouraged. */
  transitEncryptionMode: "required";
  atRestEncryptionEnabled: true;
  snapshotRetentionLimit: number;
  /** Snapshot name taken on deletion (prod), so deleting the store keeps its data. */
  finalSnapshotIdentifier?: string;
  /** AUTH token length; alphanumeric so it needs no escaping in a redis:// URL. */
  authTokenLength: number;
}

export function redisSettings(stack: StackSpec, online: Extract<OnlineStoreSpec, { kind: "redis" }>, name: string): RedisSettings {
  const d = awsDefaults(stack);
  // ElastiCache refuses automatic failover without a replica to fail over to.
  const failover = stack.multiAz && online.replicas > 0;
  const major = online.engineVersion.split(".")[0];
  return {
    engine: "redis",
    engineVersion: online.engineVersion,
    nodeType: online.nodeType,
    port: REDIS_PORT,
    ...(online.shards
      ? {
          clusterMode: {
            numNodeGroups: online.shards,
            replicasPerNodeGroup: online.replicas,
            parameterGroupName: `default.redis${major}.cluster.on`,
          },
        }
      : { numCacheClusters: 1 + online.replicas }),
    // Cluster mode requires automatic failover on; it has no replica-less single primary to protect.
    automaticFailoverEnabled: online.shards ? true : failover,
    multiAzEnabled: failover,
    transitEncryptionEnabled: true,
    transitEncryptionMode: "required",
    atRestEncryptionEnabled: true,
    // Redis holds a materialized copy of the offline store, so dev keeps no snapshots (it can be re-materialized).
    snapshotRetentionLimit: d.prod ? d.backupRetentionDays : 0,
    finalSnapshotIdentifier: d.prod ? `${awsName(`${name}-${stack.name}`, 200)}-final` : undefined,
    authTokenLength: 64,
  };
}

export interface RedisStoreArgs {
  stack: StackSpec;
  online: Extract<OnlineStoreSpec, { kind: "redis" }>;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  /** Only this security group (the cluster's nodes) may connect. */
  nodeSecurityGroupId: pulumi.Input<string>;
  kmsKeyArn: pulumi.Input<string>;
}

/** ElastiCache for Redis in the private subnets, TLS + AUTH, encrypted at rest with the store's KMS key. */
export class RedisStore extends pulumi.ComponentResource {
  /** rediss://host:port (TLS), or rediss+cluster://<configuration endpoint>:port in cluster mode; the AUTH token is `password`. */
  readonly url: pulumi.Output<string>;
  readonly password: pulumi.Output<string>;
  readonly settings: RedisSettings;

  constructor(name: string, args: RedisStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:RedisStore", name, {}, opts);
    const { stack } = args;
    const s = redisSettings(stack, args.online, name);
    this.settings = s;

    const token = new random.RandomPassword(`${name}-auth`, { length: s.authTokenLength, special: false }, { parent: this });
    const subnets = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      {
        description: `Private subnets of the ${stack.name} online store`,
        subnetIds: args.subnetIds,
        tags: awsTags(stack, `${name}-subnets`),
      },
      { parent: this },
    );
    const sg = storeSecurityGroup(
      name,
      { stack, vpcId: args.vpcId, port: s.port, sourceSecurityGroupId: args.nodeSecurityGroupId, description: "Online store (Redis)" },
      this,
    );
    const group = new aws.elasticache.ReplicationGroup(
      `${name}`,
      {
        description: `Online feature store of ${stack.name}`,
        engine: s.engine,
        engineVersion: s.engineVersion,
        nodeType: s.nodeType,
        port: s.port,
        numCacheClusters: s.numCacheClusters,
        numNodeGroups: s.clusterMode?.numNodeGroups,
        replicasPerNodeGroup: s.clusterMode?.replicasPerNodeGroup,
        parameterGroupName: s.clusterMode?.parameterGroupName,
        automaticFailoverEnabled: s.automaticFailoverEnabled,
        multiAzEnabled: s.multiAzEnabled,
        subnetGroupName: subnets.name,
        securityGroupIds: [sg.id],
        transitEncryptionEnabled: s.transitEncryptionEnabled,
        transitEncryptionMode: s.transitEncryptionMode,
        atRestEncryptionEnabled: s.atRestEncryptionEnabled,
        kmsKeyId: args.kmsKeyArn,
        authToken: pulumi.secret(token.result),
        autoMinorVersionUpgrade: true,
        snapshotRetentionLimit: s.snapshotRetentionLimit,
        finalSnapshotIdentifier: s.finalSnapshotIdentifier,
        tags: awsTags(stack, name),
      },
      statefulOptions(stack, this),
    );

    // Cluster mode: the configuration endpoint seeds the client, which then follows the cluster's slot map.
    this.url = s.clusterMode
      ? pulumi.interpolate`rediss+cluster://${group.configurationEndpointAddress}:${s.port}`
      : pulumi.interpolate`rediss://${group.primaryEndpointAddress}:${s.port}`;
    this.password = pulumi.secret(token.result);
    this.registerOutputs({ url: this.url, password: this.password, settings: s });
  }
}
