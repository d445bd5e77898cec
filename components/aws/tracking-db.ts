import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StackSpec } from "../../definition";
import { awsDefaults, awsName, awsTags, statefulOptions } from "./defaults";
import { encryptionKey } from "./kms";
import { storeSecurityGroup } from "./security-group";

export const POSTGRES_PORT = 5432;

export interface TrackingDbSettings {
  engine: "postgres";
  engineVersion: string;
  instanceClass: string;
  dbName: string;
  username: string;
  allocatedStorage: number;
  maxAllocatedStorage: number;
  storageType: "gp3";
  storageEncrypted: true;
  publiclyAccessible: false;
  multiAz: boolean;
  deletionProtection: boolean;
  backupRetentionPeriod: number;
  skipFinalSnapshot: boolean;
  finalSnapshotIdentifier?: string;
  /** PostgreSQL logs to CloudWatch, for audit and slow-query review. */
  enabledCloudwatchLogsExports: string[];
  /** Alphanumeric, so the password needs no escaping inside the postgresql:// URL. */
  passwordLength: number;
  /** IAM authentication beside the password: break-glass access by role instead of sharing the master password (CKV_AWS_161). */
  iamDatabaseAuthenticationEnabled: true;
  /** Performance Insights (7 days, the free retention, encrypted with the database key) in prod (CKV_AWS_353/354). */
  performanceInsights: boolean;
  /** Enhanced monitoring interval; 0 is off (dev). Prod samples the OS every 60 s (CKV_AWS_118). */
  monitoringIntervalSeconds: 0 | 60;
  /** PostgreSQL parameters: TLS forced (CKV2_AWS_69); schema changes and statements slower than 1 s logged (CKV2_AWS_30). */
  parameters: { name: string; value: string }[];
}

export function trackingDbSettings(stack: StackSpec, name: string): TrackingDbSettings {
  const d = awsDefaults(stack);
  return {
    engine: "postgres",
    engineVersion: "16",
    instanceClass: stack.tracking.databaseTier,
    dbName: "mlflow",
    username: "mlflow",
    allocatedStorage: d.databaseStorageGb,
    maxAllocatedStorage: d.databaseMaxStorageGb,
    storageType: "gp3",
    storageEncrypted: true,
    publiclyAccessible: false,
    multiAz: stack.multiAz,
    deletionProtection: d.deletionProtection,
    backupRetentionPeriod: d.backupRetentionDays,
    skipFinalSnapshot: !d.prod,
    finalSnapshotIdentifier: d.prod ? `${awsName(`${name}-${stack.name}`, 200)}-final` : undefined,
    enabledCloudwatchLogsExports: ["postgresql", "upgrade"],
    passwordLength: 40,
    iamDatabaseAuthenticationEnabled: true,
    performanceInsights: d.prod,
    monitoringIntervalSeconds: d.prod ? 60 : 0,
    // "ddl", not "all": MLflow's statements carry run parameters, which do not belong in logs.
    parameters: [
      // TLS only (the default from PostgreSQL 15 on RDS, pinned here so a family change cannot drop it).
      { name: "rds.force_ssl", value: "1" },
      { name: "log_statement", value: "ddl" },
      { name: "log_min_duration_statement", value: "1000" },
    ],
  };
}

/** MLflow's backend store URI; TLS is required (RDS PostgreSQL 15+ enforces it too). */
export function trackingDatabaseUrl(args: { username: string; password: string; host: string; port: number; dbName: string }): string {
  return `postgresql://${args.username}:${encodeURIComponent(args.password)}@${args.host}:${args.port}/${args.dbName}?sslmode=require`;
}

export interface TrackingDatabaseArgs {
  stack: StackSpec;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<string>[];
  nodeSecurityGroupId: pulumi.Input<string>;
}

/**
 * RDS PostgreSQL for the MLflow backend: private subnets, reachable only from the cluster's
 * nodes, encrypted with its own KMS key, multi-AZ and deletion-protected with a final snapshot
 * in prod. The password is random and only ever handled as a secret.
 */
export class TrackingDatabase extends pulumi.ComponentResource {
  /** postgresql://mlflow:<password>@host:5432/mlflow?sslmode=require (a secret). */
  readonly url: pulumi.Output<string>;
  readonly address: pulumi.Output<string>;
  readonly settings: TrackingDbSettings;

  constructor(name: string, args: TrackingDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:TrackingDatabase", name, {}, opts);
    const { stack } = args;
    const s = trackingDbSettings(stack, name);
    this.settings = s;
    const key = encryptionKey(name, stack, "tracking database", this);
    const password = new random.RandomPassword(`${name}-password`, { length: s.passwordLength, special: false }, { parent: this });
    const subnets = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      {
        subnetIds: args.subnetIds,
        description: `Private subnets of the ${stack.name} tracking database`,
        tags: awsTags(stack, `${name}-subnets`),
      },
      { parent: this },
    );
    const sg = storeSecurityGroup(
      name,
      {
        stack,
        vpcId: args.vpcId,
        port: POSTGRES_PORT,
        sourceSecurityGroupId: args.nodeSecurityGroupId,
        description: "Tracking database (PostgreSQL)",
      },
      this,
    );
    const parameterGroup = new aws.rds.ParameterGroup(
      `${name}-params`,
      {
        family: `postgres${s.engineVersion.split(".")[0]}`,
        description: `Query logging of the ${stack.name} tracking database`,
        parameters: s.parameters,
        tags: awsTags(stack, `${name}-params`),
      },
      { parent: this },
    );
    const monitoringRole =
      s.monitoringIntervalSeconds > 0
        ? new aws.iam.Role(
            `${name}-monitoring`,
            {
              assumeRolePolicy: JSON.stringify({
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" }],
              }),
              tags: awsTags(stack, `${name}-monitoring`),
            },
            { parent: this },
          )
        : undefined;
    if (monitoringRole) {
      new aws.iam.RolePolicyAttachment(
        `${name}-monitoring`,
        { role: monitoringRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole" },
        { parent: this },
      );
    }
    const db = new aws.rds.Instance(
      `${name}`,
      {
        engine: s.engine,
        engineVersion: s.engineVersion,
        instanceClass: s.instanceClass,
        dbName: s.dbName,
        username: s.username,
        password: pulumi.secret(password.result),
        port: POSTGRES_PORT,
        allocatedStorage: s.allocatedStorage,
        maxAllocatedStorage: s.maxAllocatedStorage,
        storageType: s.storageType,
        storageEncrypted: s.storageEncrypted,
        kmsKeyId: key.arn,
        publiclyAccessible: s.publiclyAccessible,
        dbSubnetGroupName: subnets.name,
        vpcSecurityGroupIds: [sg.id],
        multiAz: s.multiAz,
        deletionProtection: s.deletionProtection,
        backupRetentionPeriod: s.backupRetentionPeriod,
        skipFinalSnapshot: s.skipFinalSnapshot,
        finalSnapshotIdentifier: s.finalSnapshotIdentifier,
        copyTagsToSnapshot: true,
        autoMinorVersionUpgrade: true,
        enabledCloudwatchLogsExports: s.enabledCloudwatchLogsExports,
        iamDatabaseAuthenticationEnabled: s.iamDatabaseAuthenticationEnabled,
        parameterGroupName: parameterGroup.name,
        performanceInsightsEnabled: s.performanceInsights,
        performanceInsightsKmsKeyId: s.performanceInsights ? key.arn : undefined,
        performanceInsightsRetentionPeriod: s.performanceInsights ? 7 : undefined,
        monitoringInterval: s.monitoringIntervalSeconds,
        monitoringRoleArn: monitoringRole?.arn,
        tags: awsTags(stack, name),
      },
      statefulOptions(stack, this),
    );
    this.address = db.address;
    this.url = pulumi.secret(
      pulumi
        .all([db.address, password.result])
        .apply(([host, pw]) => trackingDatabaseUrl({ username: s.username, password: pw, host, port: POSTGRES_PORT, dbName: s.dbName })),
    );
    this.registerOutputs({ url: this.url, address: this.address, settings: s });
  }
}
