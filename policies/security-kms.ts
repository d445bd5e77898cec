import type { PolicyResource } from "@pulumi/policy";
import { principalIsEveryone, scopedByCondition, statements } from "./iam-documents";
import { ofTypes, refersTo, safeProp } from "./links";
import { policyDataBindings } from "./security-data";
import { asArray, get, type PlatformPolicy, violation } from "./support";

/**
 * Encryption keys: rotated, and administered by this account or project only. AWS: Checkov
 * CKV_AWS_7 (rotation), CKV2_AWS_64 (an explicit key policy), CKV_AWS_33 (no wildcard principal).
 * GCP: CKV_GCP_43 (rotation within 90 days), CKV_GCP_82 (no public key IAM).
 */

/** Longest rotation period accepted: 90 days, in seconds (GCP's rotationPeriod is "<seconds>s"). */
export const MAX_ROTATION_SECONDS = 90 * 24 * 3600;

/** Seconds of a GCP duration string ("7776000s"), or undefined when absent or malformed. */
export function durationSeconds(value: unknown): number | undefined {
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether an AWS key can rotate automatically: only symmetric encryption keys with key material KMS
 * generates (EnableKeyRotation refuses asymmetric and HMAC keys, and keys in a custom key store).
 */
function rotatable(key: PolicyResource): boolean {
  const spec = safeProp(key, "customerMasterKeySpec");
  return (spec === undefined || spec === "SYMMETRIC_DEFAULT") && !safeProp(key, "customKeyStoreId");
}

export const kmsKeysRotated: PlatformPolicy = {
  area: "security",
  name: "kms-keys-rotated",
  description:
    "Encryption keys rotate: AWS symmetric KMS keys outside custom key stores have enableKeyRotation (yearly or rotationPeriodInDays), GCP CryptoKeys a rotationPeriod of at most 90 days.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const aws = ofTypes(args.resources, ["aws:kms/key:Key"]);
    const gcp = ofTypes(args.resources, ["gcp:kms/cryptoKey:CryptoKey"]);
    if (aws.length + gcp.length === 0) args.notApplicable("no KMS keys in the stack");
    for (const key of aws) {
      if (!rotatable(key)) continue;
      if (safeProp(key, "enableKeyRotation") !== true)
        report(violation(`KMS key "${key.name}"`, "does not rotate its key material", "set enableKeyRotation: true"), key.urn);
    }
    for (const key of gcp) {
      if (safeProp(key, "purpose") !== undefined && safeProp(key, "purpose") !== "ENCRYPT_DECRYPT") continue;
      const seconds = durationSeconds(safeProp(key, "rotationPeriod"));
      if (seconds === undefined || seconds > MAX_ROTATION_SECONDS)
        report(
          violation(
            `CryptoKey "${key.name}"`,
            seconds === undefined ? "has no rotationPeriod" : `rotates every ${Math.round(seconds / 86400)} days`,
            `set rotationPeriod: "${MAX_ROTATION_SECONDS}s" (90 days) or less`,
          ),
          key.urn,
        );
    }
  },
};

const GCP_KEY_GRANTS = [
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember",
  "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding",
  "gcp:kms/keyRingIAMMember:KeyRingIAMMember",
  "gcp:kms/keyRingIAMBinding:KeyRingIAMBinding",
  "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy",
  "gcp:kms/keyRingIAMPolicy:KeyRingIAMPolicy",
];
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/** A grant's role and members: one for an IAM member or binding, one per binding of an IAM policy's policyData. */
function rolesOf(grant: PolicyResource): { role: unknown; members: unknown[] }[] {
  if (safeProp(grant, "policyData") !== undefined)
    return policyDataBindings(safeProp(grant, "policyData")).map((b) => ({ role: get(b, "role"), members: asArray(get(b, "members")) }));
  return [{ role: safeProp(grant, "role"), members: [safeProp(grant, "member"), ...asArray(safeProp(grant, "members"))] }];
}

export const kmsKeyPoliciesScoped: PlatformPolicy = {
  area: "security",
  name: "kms-key-policies-scoped",
  description:
    'AWS KMS keys carry an explicit key policy (their own or one an aws.kms.KeyPolicy attaches) that allows nothing to Principal "*" without a condition pinning the caller; GCP key and key-ring grants (members, bindings, IAM policies) name members, never allUsers or allAuthenticatedUsers.',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const aws = ofTypes(args.resources, ["aws:kms/key:Key"]);
    const keyPolicies = ofTypes(args.resources, ["aws:kms/keyPolicy:KeyPolicy"]);
    const gcp = ofTypes(args.resources, GCP_KEY_GRANTS);
    if (aws.length + gcp.length === 0) args.notApplicable("no KMS keys or key grants in the stack");
    for (const key of aws) {
      // An aws.kms.KeyPolicy replaces the key's policy, so its statements are the key's.
      const attached = keyPolicies.filter((p) => refersTo(p, "keyId", key, ["id", "keyId", "arn"]));
      const documents = [safeProp(key, "policy"), ...attached.map((p) => safeProp(p, "policy"))].filter(
        (d) => d !== undefined && d !== null,
      );
      const subject = `KMS key "${key.name}"`;
      if (documents.length === 0) {
        report(
          violation(
            subject,
            "has no key policy, so AWS applies its default (any IAM principal of the account with kms:* in its policy)",
            "pass policy: the account-through-IAM statement plus the service principals that use the key (components/aws/kms.ts)",
          ),
          key.urn,
        );
        continue;
      }
      for (const s of documents.flatMap(statements))
        if (s.effect === "Allow" && principalIsEveryone(s) && !scopedByCondition(s))
          report(
            violation(
              subject,
              `key policy statement ${s.sid} allows ${s.actions.join(", ")} to Principal "*"`,
              "name the account root or the service principal, or add a kms:CallerAccount / kms:ViaService condition",
            ),
            key.urn,
          );
    }
    for (const grant of gcp) {
      for (const { role, members } of rolesOf(grant)) {
        const open = members.filter((m): m is string => typeof m === "string" && PUBLIC_MEMBERS.includes(m));
        if (open.length)
          report(
            violation(
              `key grant "${grant.name}"`,
              `grants ${String(role)} to ${open.join(", ")}`,
              "grant the role to the service agent or service account that uses the key",
            ),
            grant.urn,
          );
      }
    }
  },
};

export const kmsPolicies: PlatformPolicy[] = [kmsKeysRotated, kmsKeyPoliciesScoped];
