import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { type GcpComponentArgs, gcpTarget, projectInput, statefulOptions } from "./project";

export interface KmsKeyArgs extends GcpComponentArgs {
  /** What the key protects (e.g. "gke-secrets"), recorded in its `protects` label. */
  protects: string;
  /** Members (e.g. a Google service agent) allowed to encrypt and decrypt with the key. Defaults to none. */
  encrypterDecrypters?: pulumi.Input<string>[];
  /** Days between automatic rotations. Defaults to 90 (CIS GCP 1.10 asks for at most 90). */
  rotationDays?: number;
  /**
   * Where the key ring lives; defaults to the stack's region. A key must sit where the data it
   * encrypts does (a BigQuery dataset in the "EU" multi-region needs a key ring in "europe").
   */
  location?: string;
}

/** The Cloud KMS location for data in `location` (a region, or BigQuery's "EU"/"US" multi-regions). */
export function kmsLocation(location: string): string {
  const multi: Record<string, string> = { EU: "europe", US: "us" };
  return multi[location.toUpperCase()] ?? location.toLowerCase();
}

/** The key as plain settings. */
export function kmsKeySettings(args: KmsKeyArgs): {
  purpose: string;
  rotationPeriod: string;
  versionTemplate: { algorithm: string; protectionLevel: string };
  labels: Record<string, string>;
} {
  const rotationDays = args.rotationDays ?? 90;
  if (!Number.isInteger(rotationDays) || rotationDays < 1 || rotationDays > 90) {
    throw new pulumi.InputPropertiesError({
      message: "invalid key rotation",
      errors: [{ propertyPath: "rotationDays", reason: `${rotationDays} must be a whole number of days from 1 to 90` }],
    });
  }
  return {
    purpose: "ENCRYPT_DECRYPT",
    rotationPeriod: `${rotationDays * 86400}s`,
    versionTemplate: { algorithm: "GOOGLE_SYMMETRIC_ENCRYPTION", protectionLevel: "SOFTWARE" },
    labels: {
      ...gcpTarget(args.stack).labels,
      protects: args.protects
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, "-")
        .slice(0, 63),
    },
  };
}

/**
 * A Cloud KMS key ring and a rotating symmetric key, with encrypter/decrypter grants for the
 * service agents that use it. Key rings can never be deleted in GCP, and destroying a key makes
 * everything it encrypted unreadable, so both are stateful: protected and retained in prod.
 */
export class KmsKey extends pulumi.ComponentResource {
  readonly keyRing: gcp.kms.KeyRing;
  readonly key: gcp.kms.CryptoKey;
  /** The key's resource id (projects/.../cryptoKeys/...), as GKE and GCS want it. */
  readonly keyId: pulumi.Output<string>;
  /** Grants that must exist before a service can use the key. */
  readonly grants: gcp.kms.CryptoKeyIAMMember[];

  constructor(name: string, args: KmsKeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:gcp:KmsKey", name, {}, opts);
    const { region } = gcpTarget(args.stack);
    const project = projectInput(args);
    const settings = kmsKeySettings(args);
    const stateful = statefulOptions(args.stack, this);

    this.keyRing = new gcp.kms.KeyRing(`${name}-ring`, { project, location: kmsLocation(args.location ?? region) }, stateful);
    this.key = new gcp.kms.CryptoKey(`${name}-key`, { keyRing: this.keyRing.id, ...settings }, stateful);
    this.grants = (args.encrypterDecrypters ?? []).map(
      (member, i) =>
        new gcp.kms.CryptoKeyIAMMember(
          `${name}-use-${i}`,
          { cryptoKeyId: this.key.id, role: "roles/cloudkms.cryptoKeyEncrypterDecrypter", member },
          { parent: this },
        ),
    );
    this.keyId = this.key.id;
    this.registerOutputs({ keyId: this.keyId, keyRingId: this.keyRing.id });
  }
}
