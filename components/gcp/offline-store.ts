import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import type { Catalog, StackSpec } from "../../definition";
import { bigQuerySchema, offlineTableViews } from "./bigquery-schema";
import { KmsKey } from "./kms-key";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

export interface BigQueryOfflineStoreArgs extends GcpComponentArgs {
  /** The catalog: one table per offline feature view whose source is a table of this dataset. */
  catalog: Catalog;
}

/** The dataset as plain settings. */
export interface DatasetSettings {
  datasetId: string;
  location: string;
  description: string;
  deleteContentsOnDestroy: false;
  maxTimeTravelHours: string;
  labels: Record<string, string>;
}

/** One offline table as plain settings. */
export interface OfflineTableSettings {
  featureView: string;
  tableId: string;
  description: string;
  /** JSON schema as the tables API takes it (bigQuerySchema). */
  schema: string;
  timePartitioning: { type: "DAY"; field: string };
  clusterings: string[];
  deletionProtection: boolean;
  labels: Record<string, string>;
}

/**
 * Plain dataset settings. No default table expiration (feature history is the training data),
 * no partition expiration, and no `accesses` block: access is granted to workload identities
 * one IAM member at a time (DatasetIamMember), never to allUsers or allAuthenticatedUsers.
 */
export function datasetSettings(stack: StackSpec): DatasetSettings {
  const { region, labels } = gcpTarget(stack);
  if (stack.offlineStore.kind !== "bigquery") {
    throw new pulumi.InputPropertiesError({
      message: "unsupported offline store",
      errors: [{ propertyPath: "offlineStore.kind", reason: `"${stack.offlineStore.kind}" is not available on GCP; use bigquery` }],
    });
  }
  return {
    datasetId: stack.offlineStore.dataset,
    location: stack.offlineStore.location ?? region,
    description: `Offline feature store of stack ${stack.name} (Feast project ${stack.featureStore.project})`,
    deleteContentsOnDestroy: false,
    maxTimeTravelHours: "168",
    labels,
  };
}

/**
 * Plain settings of every offline table: partitioned by day on the event timestamp (point-in-time
 * joins and materialization scan only the days they need) and clustered by the join keys
 * (BigQuery allows up to four clustering columns).
 */
export function offlineTableSettings(stack: StackSpec, catalog: Catalog): OfflineTableSettings[] {
  const { labels } = gcpTarget(stack);
  return offlineTableViews(catalog).map((view) => {
    const schema = bigQuerySchema(catalog, view.name);
    const keys = schema.filter((c) => c.mode === "REQUIRED" && c.name !== view.source.timestampField).map((c) => c.name);
    return {
      featureView: view.name,
      tableId: view.source.table,
      description: view.description || `Offline rows of feature view ${view.name}`,
      schema: JSON.stringify(schema),
      timePartitioning: { type: "DAY", field: view.source.timestampField },
      clusterings: keys.slice(0, 4),
      deletionProtection: stack.protect,
      labels: { ...labels, feature_view: view.name.toLowerCase().slice(0, 63) },
    };
  });
}

/** The offline feature store on GCP: a BigQuery dataset with one table per feature view. */
export class BigQueryOfflineStore extends pulumi.ComponentResource {
  readonly dataset: gcp.bigquery.Dataset;
  /** The customer-managed key of the dataset and its tables. */
  readonly key: KmsKey;
  readonly tables: Record<string, gcp.bigquery.Table>;
  readonly datasetId: pulumi.Output<string>;
  /** bigquery://<project>/<dataset>, as the features service reads it. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: BigQueryOfflineStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:BigQueryOfflineStore", name, {}, opts);
    const project = projectInput(args);
    // The dataset and table ids are the store's address (the services and Feast name them), so a
    // replacement must free the name first: create-before-delete fails with "Already Exists".
    const stateful = { ...statefulOptions(args.stack, this), deleteBeforeReplace: true };
    const settings = datasetSettings(args.stack);
    // CMEK: the dataset and every table are encrypted with our key (CKV_GCP_80/81), which
    // BigQuery's per-project service agent may use. Asking for the agent creates it on first use.
    const agent = gcp.bigquery.getDefaultServiceAccountOutput({ project }, { parent: this });
    this.key = new KmsKey(
      `${name}-cmek`,
      { stack: args.stack, project, protects: "bigquery-offline-store", encrypterDecrypters: [agent.member], location: settings.location },
      { parent: this },
    );
    const encrypted = { ...stateful, dependsOn: this.key.grants };
    this.dataset = new gcp.bigquery.Dataset(
      `${name}-dataset`,
      { project, ...settings, defaultEncryptionConfiguration: { kmsKeyName: this.key.keyId } },
      encrypted,
    );
    this.tables = {};
    for (const table of offlineTableSettings(args.stack, args.catalog)) {
      const { featureView, ...inputs } = table;
      this.tables[featureView] = new gcp.bigquery.Table(
        `${name}-${featureView}`,
        { project, datasetId: this.dataset.datasetId, ...inputs, encryptionConfiguration: { kmsKeyName: this.key.keyId } },
        encrypted,
      );
    }
    this.datasetId = this.dataset.datasetId;
    this.url = pulumi.interpolate`bigquery://${project}/${this.dataset.datasetId}`;
    this.registerOutputs({ datasetId: this.datasetId, url: this.url, tables: Object.keys(this.tables) });
  }
}
