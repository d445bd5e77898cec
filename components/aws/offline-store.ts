import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { OfflineStoreSpec, StackSpec } from "../../definition";
import { awsName, awsTags, statefulOptions } from "./defaults";
import { BUCKET_PREFIXES } from "./artifact-store";
import { type PolicyDocument, type PolicyStatement, policyDocument } from "./iam-policy";
import { encryptionKey } from "./kms";
import { storeSecurityGroup } from "./security-group";

export const REDSHIFT_PORT = 5439;
/** Every Redshift Serverless audit log: who connected, who ran what. */
export const REDSHIFT_LOG_EXPORTS = ["connectionlog", "userlog", "useractivitylog"] as const;

export interface RedshiftSettings {
  namespaceName: string;
  workgroupName: string;
  dbName: string;
  adminUsername: string;
  baseCapacity: number;
  publiclyAccessible: false;
  /** COPY/UNLOAD traffic goes through the VPC (and its S3 endpoint), not the public internet. */
  enhancedVpcRouting: true;
  logExports: string[];
  /** The useractivitylog is empty unless this parameter is on; TLS is required of every client. */
  configParameters: { parameterKey: string; parameterValue: string }[];
}

export function redshiftSettings(
  stack: StackSpec,
  offline: Extract<OfflineStoreSpec, { kind: "redshift" }>,
  name: string,
): RedshiftSettings {
  // Names are unique per account and region: the stack name keeps two stacks apart.
  const base = awsName(`${name}-${stack.name}`, 60);
  return {
    namespaceName: `${base}-ns`,
    workgroupName: `${base}-wg`,
    dbName: offline.database,
    adminUsername: "platform_admin",
    baseCapacity: offline.baseCapacity,
    publiclyAccessible: false,
    enhancedVpcRouting: true,
    logExports: [...REDSHIFT_LOG_EXPORTS],
    configParameters: [
      { parameterKey: "enable_user_activity_logging", parameterValue: "true" },
      { parameterKey: "require_ssl", parameterValue: "true" },
    ],
  };
}

/** The store's URL as the services read it. */
export function redshiftUrl(workgroupName: string, database: string): string {
  return `redshift://${workgroupName}/${database}`;
}

/**
 * What the features service needs to query through the Redshift Data API with its IRSA role:
 * run statements on this workgroup, get temporary database credentials for it, and read back
 * only the statements it started itself.
 */
export function redshiftDataAccessStatements(workgroupArn: string): PolicyStatement[] {
  return [
    {
      Sid: "OfflineStoreStatements",
      Effect: "Allow",
      Action: ["redshift-data:ExecuteStatement", "redshift-data:BatchExecuteStatement"],
      Resource: workgroupArn,
    },
    { Sid: "OfflineStoreCredentials", Effect: "Allow", Action: "redshift-serverless:GetCredentials", Resource: workgroupArn },
    {
      Sid: "OfflineStoreOwnResults",
      Effect: "Allow",
      Action: ["redshift-data:DescribeStatement", "redshift-data:GetStatementResult", "redshift-data:CancelStatement"],
      Resource: "*",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM, not JavaScript
      Condition: { StringEquals: { "redshift-data:statement-owner-iam-userid": "${aws:userid}" } },
    },
  ];
}

/**
 * What Redshift may do with the role it assumes for `UNLOAD ... IAM_ROLE default` (sharded
 * materialization, services/features/offline/export.ts): write Parquet and the manifest under the
 * bucket's `materialization/` prefix and nothing else; list only that prefix (ALLOWOVERWRITE looks
 * for earlier files); encrypt with the bucket key, only through S3.
 */
export function redshiftUnloadStatements(bucketArn: string, kmsKeyArn: string, region: string): PolicyStatement[] {
  const prefix = BUCKET_PREFIXES.materialization;
  return [
    { Sid: "UnloadObjects", Effect: "Allow", Action: ["s3:PutObject", "s3:AbortMultipartUpload"], Resource: `${bucketArn}/${prefix}*` },
    {
      Sid: "UnloadList",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: bucketArn,
      Condition: { StringLike: { "s3:prefix": [prefix, `${prefix}*`] } },
    },
    { Sid: "UnloadBucketLocation", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: bucketArn },
    {
      Sid: "UnloadBucketKey",
      Effect: "Allow",
      // GenerateDataKey encrypts each object; Decrypt completes multipart uploads of large files.
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${region}.amazonaws.com` } },
    },
  ];
}

/** Who may assume the UNLOAD role: Redshift (provisioned and Serverless) only. */
export function redshiftTrustPolicy(): PolicyDocument {
  return policyDocument([
    {
      Effect: "Allow",
      Principal: { Service: ["redshift.amazonaws.com", "redshift-serverless.amazonaws.com"] },
      Action: "sts:AssumeRole",
    },
  ]);
}

export interface OfflineStoreArgs {
  stack: StackSpec;
  offline: Extract<OfflineStoreSpec, { kind: "redshift" }>;
  vpcId: pulumi.Input<string>;
  /** Private subnets in at least three AZs (a Redshift Serverless requirement). */
  subnetIds: pulumi.Input<string>[];
  nodeSecurityGroupId: pulumi.Input<string>;
  /** The S3 gateway endpoint's prefix list, for COPY/UNLOAD under enhanced VPC routing. */
  s3PrefixListId: pulumi.Input<string>;
  /** The artifact bucket: UNLOADs of sharded materialization go under its `materialization/` prefix. */
  exportBucket: { arn: pulumi.Input<string>; kmsKeyArn: pulumi.Input<string> };
}

/**
 * Redshift Serverless: a namespace (data, KMS-encrypted, admin password kept by Secrets Manager,
 * audit logs exported) and a workgroup (compute) in private subnets, not publicly accessible.
 * The features service reaches it through the Data API with its IRSA role; no database password
 * leaves AWS.
 */
export class OfflineStore extends pulumi.ComponentResource {
  /** redshift://<workgroup>/<database> */
  readonly url: pulumi.Output<string>;
  readonly workgroupArn: pulumi.Output<string>;
  readonly endpoint: pulumi.Output<string>;
  readonly settings: RedshiftSettings;

  constructor(name: string, args: OfflineStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:OfflineStore", name, {}, opts);
    const { stack } = args;
    const s = redshiftSettings(stack, args.offline, name);
    this.settings = s;
    const key = encryptionKey(name, stack, "offline feature store", this);
    const sg = storeSecurityGroup(
      name,
      {
        stack,
        vpcId: args.vpcId,
        port: REDSHIFT_PORT,
        sourceSecurityGroupId: args.nodeSecurityGroupId,
        description: "Offline store (Redshift)",
        httpsEgressPrefixListIds: [args.s3PrefixListId],
      },
      this,
    );
    const unloadRole = new aws.iam.Role(
      `${name}-unload`,
      {
        assumeRolePolicy: JSON.stringify(redshiftTrustPolicy()),
        description: "Redshift UNLOAD of sharded materialization to the artifact bucket's materialization/ prefix",
        tags: awsTags(stack, `${s.namespaceName}-unload`),
      },
      { parent: this },
    );
    new aws.iam.RolePolicy(
      `${name}-unload`,
      {
        role: unloadRole.id,
        policy: pulumi
          .all([args.exportBucket.arn, args.exportBucket.kmsKeyArn])
          .apply(([bucket, kms]) => JSON.stringify(policyDocument(redshiftUnloadStatements(bucket, kms, stack.region)))),
      },
      { parent: this },
    );
    const namespace = new aws.redshiftserverless.Namespace(
      `${name}-ns`,
      {
        // `IAM_ROLE default` in UNLOAD (services/features/offline/export.ts) is this role.
        iamRoles: [unloadRole.arn],
        defaultIamRoleArn: unloadRole.arn,
        namespaceName: s.namespaceName,
        dbName: s.dbName,
        adminUsername: s.adminUsername,
        manageAdminPassword: true,
        adminPasswordSecretKmsKeyId: key.arn,
        kmsKeyId: key.arn,
        logExports: s.logExports,
        tags: awsTags(stack, s.namespaceName),
      },
      // Namespace and workgroup names are fixed (the URL names the workgroup): free them before a replacement.
      { ...statefulOptions(stack, this), deleteBeforeReplace: true },
    );
    const workgroup = new aws.redshiftserverless.Workgroup(
      `${name}-wg`,
      {
        namespaceName: namespace.namespaceName,
        workgroupName: s.workgroupName,
        baseCapacity: s.baseCapacity,
        publiclyAccessible: s.publiclyAccessible,
        enhancedVpcRouting: s.enhancedVpcRouting,
        subnetIds: args.subnetIds,
        securityGroupIds: [sg.id],
        configParameters: s.configParameters,
        tags: awsTags(stack, s.workgroupName),
      },
      {
        parent: this,
        deleteBeforeReplace: true,
        // The API returns every parameter of the workgroup (about ten, a set AWS grows over time), not
        // the two set here: the diff never settles, and the update it triggers is refused ("You didn't
        // specify any changes"; terraform-provider-aws#49939). Drift is ignored; to change one of
        // these two, edit it here and run `up` once without this entry.
        ignoreChanges: ["configParameters"],
      },
    );

    this.url = workgroup.workgroupName.apply((wg) => redshiftUrl(wg, s.dbName));
    this.workgroupArn = workgroup.arn;
    this.endpoint = workgroup.endpoints.apply((e) => e[0]?.address ?? "");
    this.registerOutputs({ url: this.url, workgroupArn: this.workgroupArn, endpoint: this.endpoint, settings: s });
  }
}
