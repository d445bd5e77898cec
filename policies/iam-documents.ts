import { asArray, asRecord } from "./support";

/**
 * AWS policy documents as the policies read them: identity policies, role trust policies, bucket
 * and queue policies and KMS key policies all share the grammar (Statement, Effect, Principal,
 * Action, Resource, Condition). A document arrives as a JSON string (what the components pass,
 * and what Checkov's terraform_plan reads) or as an object; a string that does not parse reads as
 * no statements, and the resource's own schema check reports it.
 */

export interface Statement {
  sid: string;
  effect: "Allow" | "Deny";
  /** "*" when the principal is the bare string "*"; else the principal map's values per key. */
  principal: "*" | Record<string, string[]> | undefined;
  actions: string[];
  notActions: string[];
  resources: string[];
  hasCondition: boolean;
  condition: Record<string, unknown>;
}

const strings = (value: unknown): string[] =>
  (Array.isArray(value) ? value : value === undefined ? [] : [value]).filter((v): v is string => typeof v === "string");

/** The statements of a policy document, normalised. */
export function statements(document: unknown): Statement[] {
  let doc: unknown = document;
  if (typeof doc === "string") {
    try {
      doc = JSON.parse(doc);
    } catch {
      return [];
    }
  }
  const raw = asRecord(doc).Statement;
  return (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((s, i) => {
    const r = asRecord(s);
    const principal =
      r.Principal === "*"
        ? "*"
        : r.Principal === undefined
          ? undefined
          : Object.fromEntries(Object.entries(asRecord(r.Principal)).map(([k, v]) => [k, strings(v)]));
    const condition = asRecord(r.Condition);
    return {
      sid: typeof r.Sid === "string" ? r.Sid : `#${i}`,
      effect: r.Effect === "Deny" ? "Deny" : "Allow",
      principal,
      actions: strings(r.Action),
      notActions: strings(r.NotAction),
      resources: [...strings(r.Resource), ...strings(r.NotResource)],
      hasCondition: Object.keys(condition).length > 0,
      condition,
    };
  });
}

/** Whether the statement's principal is everyone: `"*"`, or `{ AWS: "*" }` (anonymous included). */
export function principalIsEveryone(statement: Statement): boolean {
  if (statement.principal === "*") return true;
  return asArray(statement.principal?.AWS).includes("*");
}

/** Actions that read or list only; a wildcard ("s3:*", "*", "s3:Put*") is never read-only. */
export function isReadOnlyAction(action: string): boolean {
  const verb = action.split(":")[1] ?? "";
  // Case-insensitive as IAM is: "s3:Getobject" is s3:GetObject, which reads data.
  if (verb.includes("*") && !/^(Describe|List|Get)[A-Za-z]*\*$/i.test(verb)) return false;
  return /^(Describe|List|Get)/i.test(verb) && !/^GetCredentials|^GetSecretValue|^GetObject|^GetParameter/i.test(verb);
}

/**
 * Whether the action pattern grants every action of a service ("s3:*") or of all services ("*").
 * IAM matches action names case-insensitively, so "S3:*" is the same grant.
 */
export function isServiceWildcard(action: string): boolean {
  return action === "*" || /^[a-z0-9-]+:\*$/i.test(action);
}

/**
 * Condition keys that scope a statement to this account's own callers or resources; a statement
 * open to everyone is acceptable only with one of them (the scanners' CKV_AWS_70 / CKV_AWS_33 read
 * the same way: a wildcard principal narrowed by a condition passes).
 */
const SCOPING_KEYS = [
  "aws:sourcearn",
  "aws:sourceaccount",
  "aws:principalaccount",
  "aws:principalorgid",
  "aws:sourcevpce",
  "aws:sourcevpc",
  "kms:calleraccount",
  "kms:viaservice",
];

export function scopedByCondition(statement: Statement): boolean {
  return Object.values(statement.condition).some((block) =>
    Object.keys(asRecord(block)).some((key) => SCOPING_KEYS.includes(key.toLowerCase())),
  );
}
