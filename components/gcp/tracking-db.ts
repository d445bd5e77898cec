import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

/** Names inside the instance: MLflow's database and the user it connects as. */
export const TRACKING_DATABASE = { database: "mlflow", user: "mlflow" } as const;

export interface CloudSqlTrackingDatabaseArgs extends GcpComponentArgs {
  /** The VPC the instance gets its private IP in. */
  networkId: pulumi.Input<string>;
  /** The private services peering; the instance cannot be created before it exists. */
  privateServices: pulumi.Resource;
  /** PostgreSQL major version. Defaults to POSTGRES_16. */
  databaseVersion?: string;
}

/** The instance as plain settings (the private network id is added by the component). */
export interface CloudSqlSettings {
  region: string;
  databaseVersion: string;
  deletionProtection: boolean;
  settings: {
    tier: string;
    edition: "ENTERPRISE";
    availabilityType: "REGIONAL" | "ZONAL";
    diskType: string;
    diskAutoresize: true;
    deletionProtectionEnabled: boolean;
    ipConfiguration: { ipv4Enabled: false; sslMode: "ENCRYPTED_ONLY" };
    backupConfiguration: {
      enabled: true;
      pointInTimeRecoveryEnabled: true;
      startTime: string;
      transactionLogRetentionDays: number;
      backupRetentionSettings: { retainedBackups: number; retentionUnit: "COUNT" };
    };
    databaseFlags: { name: string; value: string }[];
    insightsConfig: { queryInsightsEnabled: true; recordClientAddress: false };
    maintenanceWindow: { day: number; hour: number; updateTrack: string };
    userLabels: Record<string, string>;
  };
}

/**
 * Plain Cloud SQL settings. Secure defaults, resolved once: no public IP at all (private IP
 * through private services access), TLS required, daily backups with point-in-time recovery,
 * connection logging (CIS GCP 6.2), and in prod a regional (HA) instance that neither Pulumi
 * nor the Cloud SQL API will delete. Edition ENTERPRISE, because the shared-core and custom
 * tiers the spec defaults to do not exist in ENTERPRISE_PLUS (the default for PostgreSQL 16).
 */
export function cloudSqlSettings(args: Pick<CloudSqlTrackingDatabaseArgs, "stack" | "databaseVersion">): CloudSqlSettings {
  const { region, labels, prod } = gcpTarget(args.stack);
  return {
    region,
    databaseVersion: args.databaseVersion ?? "POSTGRES_16",
    deletionProtection: prod,
    settings: {
      tier: args.stack.tracking.databaseTier,
      edition: "ENTERPRISE",
      availabilityType: prod ? "REGIONAL" : "ZONAL",
      diskType: "PD_SSD",
      diskAutoresize: true,
      deletionProtectionEnabled: prod,
      ipConfiguration: { ipv4Enabled: false, sslMode: "ENCRYPTED_ONLY" },
      backupConfiguration: {
        enabled: true,
        pointInTimeRecoveryEnabled: true,
        startTime: "02:00",
        transactionLogRetentionDays: 7,
        backupRetentionSettings: { retainedBackups: prod ? 30 : 7, retentionUnit: "COUNT" },
      },
      databaseFlags: [
        { name: "log_connections", value: "on" },
        { name: "log_disconnections", value: "on" },
        { name: "log_checkpoints", value: "on" },
        { name: "log_lock_waits", value: "on" },
        // What Checkov's CIS checks ask of PostgreSQL (CKV_GCP_108-111, CKV2_GCP_13): the client's
        // host, statements that fail, schema changes ("ddl", not "all": MLflow's statements carry
        // run parameters), durations, and pgAudit available for session audit.
        { name: "log_hostname", value: "on" },
        { name: "log_min_error_statement", value: "error" },
        { name: "log_statement", value: "ddl" },
        { name: "log_duration", value: "on" },
        { name: "cloudsql.enable_pgaudit", value: "on" },
        // IAM database authentication, as the RDS side has: a service account can log in with a
        // short-lived token instead of the static password (policy cloudsql-audit-and-recovery).
        { name: "cloudsql.iam_authentication", value: "on" },
      ],
      insightsConfig: { queryInsightsEnabled: true, recordClientAddress: false },
      maintenanceWindow: { day: 7, hour: 3, updateTrack: "stable" },
      userLabels: labels,
    },
  };
}

/** A PostgreSQL URL with the password escaped and TLS required, as MLflow's --backend-store-uri takes it. */
export function postgresUrl(parts: { user: string; password: string; host: string; port?: number; database: string }): string {
  return `postgresql://${encodeURIComponent(parts.user)}:${encodeURIComponent(parts.password)}@${parts.host}:${parts.port ?? 5432}/${encodeURIComponent(parts.database)}?sslmode=require`;
}

/** The MLflow tracking server's backend store: Cloud SQL for PostgreSQL on a private IP. */
export class CloudSqlTrackingDatabase extends pulumi.ComponentResource {
  readonly instance: gcp.sql.DatabaseInstance;
  /** postgresql://mlflow:<password>@<private ip>:5432/mlflow?sslmode=require (a secret). */
  readonly url: pulumi.Output<string>;
  readonly connectionName: pulumi.Output<string>;

  constructor(name: string, args: CloudSqlTrackingDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:CloudSqlTrackingDatabase", name, {}, opts);
    const project = projectInput(args);
    const { settings, ...instance } = cloudSqlSettings(args);
    const stateful = statefulOptions(args.stack, this);

    this.instance = new gcp.sql.DatabaseInstance(
      `${name}-postgres`,
      { project, ...instance, settings: { ...settings, ipConfiguration: { ...settings.ipConfiguration, privateNetwork: args.networkId } } },
      { ...stateful, dependsOn: [args.privateServices] },
    );
    const database = new gcp.sql.Database(
      `${name}-db`,
      { project, instance: this.instance.name, name: TRACKING_DATABASE.database },
      stateful,
    );
    // Letters and digits only: the password goes into a URL and a shell-free env var unescaped by some clients.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const user = new gcp.sql.User(
      `${name}-user`,
      // PostgreSQL refuses to drop a user that owns objects; abandoning it lets the instance go first.
      { project, instance: this.instance.name, name: TRACKING_DATABASE.user, password: password.result, deletionPolicy: "ABANDON" },
      { parent: this },
    );

    this.connectionName = this.instance.connectionName;
    this.url = pulumi.secret(
      pulumi
        .all([this.instance.privateIpAddress, password.result, database.name, user.name])
        .apply(([host, pw, db, userName]) => postgresUrl({ user: userName, password: pw, host, database: db })),
    );
    this.registerOutputs({ url: this.url, connectionName: this.connectionName, privateIp: this.instance.privateIpAddress });
  }
}
