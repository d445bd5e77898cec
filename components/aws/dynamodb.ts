import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type Catalog, DYNAMO_STATE_TABLE, type StackSpec } from "../../definition";
import { awsDefaults, awsTags, statefulOptions } from "./defaults";
import type { PolicyStatement } from "./iam-policy";

/**
 * DynamoDB online store: one table per online feature view, laid out as Feast's DynamoDB online
 * store lays it out, so Feast and this platform's features service can read each other's tables.
 * The key design and the reasons are in docs/aws.md ("DynamoDB online store").
 */
export const DYNAMODB_LAYOUT = {
  /** Hash key: Feast's entity id (hex digest of the serialized entity key), a string. */
  partitionKey: "entity_id",
  /** Epoch seconds after which DynamoDB may delete the item: event time + the view's ttl. */
  ttlAttribute: "expires_at",
} as const;

/**
 * Table names are unique per account and region, so they carry the stack: Feast's
 * `table_name_template` set to `{project}.<stack>.{table_name}` (the features service reads the same
 * template from the store URL, dynamoTableTemplate).
 */
export function dynamoTableName(project: string, featureView: string, stack: string): string {
  return dynamoTableTemplate(stack).replace("{project}", project).replace("{table_name}", featureView);
}

/** The Feast `table_name_template` of a stack's tables. */
export function dynamoTableTemplate(stack: string): string {
  return `{project}.${stack}.{table_name}`;
}

/** The online store URL of a stack's tables: `dynamodb://<region>?tableNameTemplate=...`. */
export function dynamoUrl(region: string, stack: string): string {
  return `dynamodb://${region}?tableNameTemplate=${encodeURIComponent(dynamoTableTemplate(stack))}`;
}

export interface DynamoTablePlan {
  featureView: string;
  tableName: string;
  /** The view's ttl in seconds (0 = forever: items get no expires_at and never expire). */
  ttlSeconds: number;
}

/** One table for every feature view that is served online, in name order. */
export function dynamoTables(catalog: Catalog, project: string, stack: string): DynamoTablePlan[] {
  return Object.values(catalog.featureViews)
    .filter((view) => view.online)
    .map((view) => ({ featureView: view.name, tableName: dynamoTableName(project, view.name, stack), ttlSeconds: view.ttl }))
    .sort((a, b) => a.tableName.localeCompare(b.tableName));
}

/** The materialization state table (definition/materialization.ts): run windows, export manifests, acknowledged rows, view ends. */
export function dynamoStateTableName(project: string, stack: string): string {
  return dynamoTableName(project, DYNAMO_STATE_TABLE.tableName, stack);
}

/** The state table's settings: as an online table's (on-demand, PITR, TTL), keyed by `state_key`. */
export function dynamoStateTableSettings(stack: StackSpec, project: string) {
  const tableName = dynamoStateTableName(project, stack.name);
  return {
    ...dynamoTableSettings(stack, { featureView: DYNAMO_STATE_TABLE.tableName, tableName, ttlSeconds: 0 }),
    hashKey: DYNAMO_STATE_TABLE.hashKey,
    attributes: [{ name: DYNAMO_STATE_TABLE.hashKey, type: "S" }],
  };
}

/** The settings every online table gets: on-demand, PITR, KMS encryption, TTL, deletion protection in prod. */
export function dynamoTableSettings(stack: StackSpec, plan: DynamoTablePlan) {
  return {
    name: plan.tableName,
    billingMode: "PAY_PER_REQUEST" as const,
    hashKey: DYNAMODB_LAYOUT.partitionKey,
    attributes: [{ name: DYNAMODB_LAYOUT.partitionKey, type: "S" }],
    pointInTimeRecovery: { enabled: true },
    ttl: { attributeName: DYNAMODB_LAYOUT.ttlAttribute, enabled: true },
    deletionProtectionEnabled: awsDefaults(stack).deletionProtection,
  };
}

/**
 * What the features service (services/features/online/dynamodb.ts) needs: point and batch reads
 * and writes on its tables, DescribeTable (it checks a table exists before writing), and the KMS
 * key only through DynamoDB. No CreateTable: the tables are Pulumi's.
 */
export function dynamoAccessStatements(tableArns: string[], kmsKeyArn: string, region: string): PolicyStatement[] {
  if (tableArns.length === 0) return [];
  return [
    {
      Sid: "OnlineStoreTables",
      Effect: "Allow",
      Action: [
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        // Tiles of aggregated views: a push's conditional update, materialization's per-entity tile writes.
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:DescribeTable",
      ],
      Resource: tableArns,
    },
    // The adapter's health check lists tables; ListTables cannot be scoped to a table.
    { Sid: "OnlineStoreHealth", Effect: "Allow", Action: "dynamodb:ListTables", Resource: "*" },
    {
      Sid: "OnlineStoreKey",
      Effect: "Allow",
      Action: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey", "kms:CreateGrant"],
      Resource: kmsKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `dynamodb.${region}.amazonaws.com` } },
    },
  ];
}

export interface DynamoStoreArgs {
  stack: StackSpec;
  catalog: Catalog;
  kmsKeyArn: pulumi.Input<string>;
}

/** The online tables of the catalog's feature views. */
export class DynamoStore extends pulumi.ComponentResource {
  /** dynamodb://<region>: tables are found by name, `<project>.<feature view>`. */
  readonly url: pulumi.Output<string>;
  readonly tableArns: pulumi.Output<string[]>;
  readonly tables: DynamoTablePlan[];

  constructor(name: string, args: DynamoStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:aws:DynamoStore", name, {}, opts);
    const { stack } = args;
    this.tables = dynamoTables(args.catalog, stack.featureStore.project, stack.name);
    const tables = this.tables.map(
      (plan) =>
        new aws.dynamodb.Table(
          `${name}-${plan.featureView}`,
          {
            ...dynamoTableSettings(stack, plan),
            serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
            tags: awsTags(stack, plan.tableName, { featureView: plan.featureView }),
          },
          // The table name is its address (the services and Feast find it by name): free it before a replacement.
          { ...statefulOptions(stack, this), deleteBeforeReplace: true },
        ),
    );
    // Writers of a sharded run coordinate here (services/features/materialize-state.ts); only the features role touches it.
    const stateTable = new aws.dynamodb.Table(
      `${name}-materialization-state`,
      {
        ...dynamoStateTableSettings(stack, stack.featureStore.project),
        serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
        tags: awsTags(stack, dynamoStateTableName(stack.featureStore.project, stack.name)),
      },
      { ...statefulOptions(stack, this), deleteBeforeReplace: true },
    );
    this.url = pulumi.output(dynamoUrl(stack.region, stack.name));
    this.tableArns = pulumi.all([...tables.map((t) => t.arn), stateTable.arn]);
    this.registerOutputs({ url: this.url, tableArns: this.tableArns, tables: this.tables });
  }
}
