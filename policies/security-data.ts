import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import { type ReportViolation, validateResourceOfType } from "@pulumi/policy";
import { asArray, get, type PlatformPolicy, violation } from "./support";

/**
 * Security of the data stores: encrypted at rest and in transit, authenticated, never public.
 * Online stores (ElastiCache, Memorystore, DynamoDB), offline stores (Redshift, BigQuery) and
 * the tracking server's database (RDS, Cloud SQL). Buckets are in security-buckets.ts.
 */

/** Redshift's `encrypted` is a string in the AWS provider v7 ("false"), a boolean before; unset, v7 encrypts. */
const falsy = (value: unknown) => value === false || value === "false";
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

export const elasticacheEncryptedWithAuth: PlatformPolicy = {
  area: "security",
  name: "elasticache-encrypted-with-auth",
  description: "ElastiCache Redis/Valkey encrypts in transit (TLS) and at rest, and requires AUTH (token or RBAC user group).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(aws.elasticache.ReplicationGroup, (rg, args, report) => {
      const subject = `ElastiCache replication group "${args.name}"`;
      if (rg.transitEncryptionEnabled !== true)
        report(violation(subject, "in-transit encryption (TLS) is off", "set transitEncryptionEnabled: true and connect with rediss://"));
      if (rg.transitEncryptionMode !== undefined && rg.transitEncryptionMode !== "required") {
        report(
          violation(
            subject,
            `transitEncryptionMode is "${rg.transitEncryptionMode}", which still accepts plain-text clients`,
            'set transitEncryptionMode: "required"',
          ),
        );
      }
      // The provider defaults atRestEncryptionEnabled to true for valkey, to false for redis (the default engine).
      if (rg.atRestEncryptionEnabled === false || (rg.atRestEncryptionEnabled === undefined && rg.engine !== "valkey"))
        report(
          violation(subject, "at-rest encryption is off", "set atRestEncryptionEnabled: true (with kmsKeyId for a customer-managed key)"),
        );
      if (!rg.authToken && asArray(rg.userGroupIds).length === 0) {
        report(
          violation(
            subject,
            "has no AUTH: any client inside the VPC can read every feature",
            "set authToken (a random.RandomPassword, kept secret) or userGroupIds for RBAC",
          ),
        );
      }
    }),
    validateResourceOfType(aws.elasticache.Cluster, (cluster, args, report) => {
      if (cluster.engine === "memcached" || cluster.replicationGroupId) return;
      report(
        violation(
          `ElastiCache cluster "${args.name}"`,
          "is a standalone Redis cluster, which cannot enforce TLS and AUTH",
          "create an aws.elasticache.ReplicationGroup with transitEncryptionEnabled, atRestEncryptionEnabled and authToken",
        ),
      );
    }),
  ],
};

export const memorystoreAuthAndTls: PlatformPolicy = {
  area: "security",
  name: "memorystore-auth-and-tls",
  description: "Memorystore Redis requires AUTH and serves TLS only (server authentication).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(gcp.redis.Instance, (instance, args, report) => {
      const subject = `Memorystore instance "${args.name}"`;
      if (instance.authEnabled !== true)
        report(
          violation(
            subject,
            "AUTH is off: any client on the VPC can read every feature",
            "set authEnabled: true and pass the AUTH string to the services as a Secret",
          ),
        );
      if (instance.transitEncryptionMode !== "SERVER_AUTHENTICATION") {
        report(
          violation(
            subject,
            `transitEncryptionMode is ${instance.transitEncryptionMode ?? "unset (DISABLED)"}`,
            'set transitEncryptionMode: "SERVER_AUTHENTICATION" and connect with rediss://',
          ),
        );
      }
    }),
    validateResourceOfType(gcp.redis.Cluster, (cluster, args, report) => {
      const subject = `Memorystore cluster "${args.name}"`;
      if (cluster.authorizationMode !== "AUTH_MODE_IAM_AUTH")
        report(violation(subject, "IAM authentication is off", 'set authorizationMode: "AUTH_MODE_IAM_AUTH"'));
      if (cluster.transitEncryptionMode !== "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION") {
        report(
          violation(subject, "in-transit encryption is off", 'set transitEncryptionMode: "TRANSIT_ENCRYPTION_MODE_SERVER_AUTHENTICATION"'),
        );
      }
    }),
  ],
};

export const dynamodbEncrypted: PlatformPolicy = {
  area: "security",
  name: "dynamodb-encrypted",
  description: "DynamoDB tables use server-side encryption with a KMS key (AWS-managed or customer-managed), not the AWS-owned default.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: validateResourceOfType(aws.dynamodb.Table, (table, args, report) => {
    if (table.serverSideEncryption?.enabled !== true) {
      report(
        violation(
          `DynamoDB table "${args.name}"`,
          "server-side encryption with KMS is off",
          "set serverSideEncryption: { enabled: true } (and kmsKeyArn for a customer-managed key)",
        ),
      );
    }
  }),
};

export const redshiftEncryptedPrivate: PlatformPolicy = {
  area: "security",
  name: "redshift-encrypted-private",
  description:
    "Redshift (provisioned or Serverless) is encrypted and not publicly accessible (the AWS provider v7 defaults for a cluster).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(aws.redshift.Cluster, (cluster, args, report) => {
      const subject = `Redshift cluster "${args.name}"`;
      // AWS provider v7 defaults a cluster to encrypted and private; only an explicit opt-out is reported.
      if (falsy(cluster.encrypted))
        report(violation(subject, "is not encrypted at rest", 'set encrypted: "true" (and kmsKeyId for a customer-managed key)'));
      if (cluster.publiclyAccessible === true)
        report(violation(subject, "is publicly accessible", "set publiclyAccessible: false and reach it from inside the VPC"));
    }),
    validateResourceOfType(aws.redshiftserverless.Workgroup, (workgroup, args, report) => {
      if (workgroup.publiclyAccessible === true) {
        report(
          violation(
            `Redshift Serverless workgroup "${args.name}"`,
            "is publicly accessible",
            "set publiclyAccessible: false and reach it from inside the VPC",
          ),
        );
      }
    }),
  ],
};

export const rdsEncryptedPrivate: PlatformPolicy = {
  area: "security",
  name: "rds-encrypted-private",
  description: "RDS databases (instances, Aurora clusters and their instances) are encrypted at rest and not publicly accessible.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(aws.rds.Instance, (db, args, report) => {
      const subject = `RDS instance "${args.name}"`;
      if (db.storageEncrypted !== true)
        report(violation(subject, "storage is not encrypted", "set storageEncrypted: true (and kmsKeyId for a customer-managed key)"));
      if (db.publiclyAccessible === true)
        report(violation(subject, "is publicly accessible", "set publiclyAccessible: false and put it in private subnets"));
    }),
    validateResourceOfType(aws.rds.Cluster, (db, args, report) => {
      if (db.storageEncrypted !== true)
        report(violation(`RDS cluster "${args.name}"`, "storage is not encrypted", "set storageEncrypted: true"));
    }),
    // An Aurora cluster has no publiclyAccessible of its own: each of its instances has one.
    validateResourceOfType(aws.rds.ClusterInstance, (db, args, report) => {
      if (db.publiclyAccessible === true)
        report(
          violation(
            `RDS cluster instance "${args.name}"`,
            "is publicly accessible",
            "set publiclyAccessible: false and put it in private subnets",
          ),
        );
    }),
  ],
};

export const cloudSqlPrivateTls: PlatformPolicy = {
  area: "security",
  name: "cloudsql-private-tls",
  description: "Cloud SQL has no public IP, sits on the private network, and accepts only encrypted connections.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: validateResourceOfType(gcp.sql.DatabaseInstance, (db, args, report) => {
    const subject = `Cloud SQL instance "${args.name}"`;
    const ip = db.settings?.ipConfiguration;
    if (ip?.ipv4Enabled !== false)
      report(
        violation(subject, "has a public IPv4 address (ipv4Enabled defaults to true)", "set settings.ipConfiguration.ipv4Enabled: false"),
      );
    if (!ip?.privateNetwork)
      report(
        violation(
          subject,
          "is not on the private network",
          "set settings.ipConfiguration.privateNetwork to the VPC's id (private services access)",
        ),
      );
    if (ip?.sslMode !== "ENCRYPTED_ONLY" && ip?.sslMode !== "TRUSTED_CLIENT_CERTIFICATE_REQUIRED") {
      report(
        violation(
          subject,
          `accepts unencrypted connections (sslMode ${ip?.sslMode ?? "unset"})`,
          'set settings.ipConfiguration.sslMode: "ENCRYPTED_ONLY"',
        ),
      );
    }
    for (const network of asArray(ip?.authorizedNetworks)) {
      if (get(network, "value") === "0.0.0.0/0")
        report(violation(subject, "authorizes 0.0.0.0/0", "remove the 0.0.0.0/0 authorized network"));
    }
  }),
};

/** Members of every binding of an IAM policy's policyData (a JSON string); none when it does not parse. */
function policyDataMembers(policyData: unknown): unknown[] {
  return policyDataBindings(policyData).flatMap((b) => asArray(get(b, "members")));
}

/** The bindings of an IAM policy's policyData (a JSON string, as gcp.organizations.getIAMPolicy gives it). */
export function policyDataBindings(policyData: unknown): unknown[] {
  try {
    return asArray(get(JSON.parse(String(policyData)), "bindings"));
  } catch {
    return [];
  }
}

function reportPublicMember(kind: string, name: string, members: unknown[], report: ReportViolation): void {
  for (const member of members) {
    if (typeof member === "string" && PUBLIC_MEMBERS.includes(member)) {
      report(violation(`${kind} "${name}"`, `grants access to ${member}`, "grant roles to named service accounts or groups only"));
    }
  }
}

export const bigqueryDatasetPrivate: PlatformPolicy = {
  area: "security",
  name: "bigquery-dataset-private",
  description:
    "BigQuery datasets and tables grant no access to allUsers or allAuthenticatedUsers (accesses, IAM members, bindings or policies).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(gcp.bigquery.Dataset, (dataset, args, report) => {
      const members = asArray(dataset.accesses).flatMap((a) => [get(a, "specialGroup"), get(a, "iamMember")]);
      reportPublicMember("BigQuery dataset", args.name, members, report);
    }),
    validateResourceOfType(gcp.bigquery.DatasetIamMember, (m, args, report) =>
      reportPublicMember("BigQuery dataset IAM member", args.name, [m.member], report),
    ),
    validateResourceOfType(gcp.bigquery.DatasetIamBinding, (b, args, report) =>
      reportPublicMember("BigQuery dataset IAM binding", args.name, asArray(b.members), report),
    ),
    validateResourceOfType(gcp.bigquery.DatasetAccess, (a, args, report) =>
      reportPublicMember("BigQuery dataset access", args.name, [a.specialGroup, a.iamMember], report),
    ),
    validateResourceOfType(gcp.bigquery.DatasetIamPolicy, (p, args, report) =>
      reportPublicMember("BigQuery dataset IAM policy", args.name, policyDataMembers(p.policyData), report),
    ),
    // Table-level grants reach the data without the dataset's.
    validateResourceOfType(gcp.bigquery.IamMember, (m, args, report) =>
      reportPublicMember("BigQuery table IAM member", args.name, [m.member], report),
    ),
    validateResourceOfType(gcp.bigquery.IamBinding, (b, args, report) =>
      reportPublicMember("BigQuery table IAM binding", args.name, asArray(b.members), report),
    ),
    validateResourceOfType(gcp.bigquery.IamPolicy, (p, args, report) =>
      reportPublicMember("BigQuery table IAM policy", args.name, policyDataMembers(p.policyData), report),
    ),
  ],
};

export const gcsBucketPrivate: PlatformPolicy = {
  area: "security",
  name: "gcs-bucket-private",
  description:
    "GCS buckets use uniform bucket-level access, enforce public access prevention and grant nothing to allUsers (IAM members, bindings or policies).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: [
    validateResourceOfType(gcp.storage.Bucket, (bucket, args, report) => {
      const subject = `GCS bucket "${args.name}"`;
      if (bucket.uniformBucketLevelAccess !== true)
        report(violation(subject, "uses per-object ACLs", "set uniformBucketLevelAccess: true"));
      if (bucket.publicAccessPrevention !== "enforced")
        report(violation(subject, "does not enforce public access prevention", 'set publicAccessPrevention: "enforced"'));
    }),
    validateResourceOfType(gcp.storage.BucketIAMMember, (m, args, report) =>
      reportPublicMember("GCS bucket IAM member", args.name, [m.member], report),
    ),
    validateResourceOfType(gcp.storage.BucketIAMBinding, (b, args, report) =>
      reportPublicMember("GCS bucket IAM binding", args.name, asArray(b.members), report),
    ),
    validateResourceOfType(gcp.storage.BucketIAMPolicy, (p, args, report) =>
      reportPublicMember("GCS bucket IAM policy", args.name, policyDataMembers(p.policyData), report),
    ),
  ],
};

export const gcsBucketVersioned: PlatformPolicy = {
  area: "security",
  name: "gcs-bucket-versioned",
  description: "GCS buckets keep object versions, so an overwritten or deleted model artifact can be restored.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: validateResourceOfType(gcp.storage.Bucket, (bucket, args, report) => {
    if (bucket.versioning?.enabled !== true)
      report(
        violation(
          `GCS bucket "${args.name}"`,
          "object versioning is off",
          "set versioning: { enabled: true } (with a lifecycle rule to expire old versions)",
        ),
      );
  }),
};

export const dataStorePolicies: PlatformPolicy[] = [
  elasticacheEncryptedWithAuth,
  memorystoreAuthAndTls,
  dynamodbEncrypted,
  redshiftEncryptedPrivate,
  rdsEncryptedPrivate,
  cloudSqlPrivateTls,
  bigqueryDatasetPrivate,
  gcsBucketPrivate,
  gcsBucketVersioned,
];
