import type { PolicyResource, ReportViolation, StackValidationArgs } from "@pulumi/policy";
import { isReadOnlyAction, isServiceWildcard, principalIsEveryone, type Statement, scopedByCondition, statements } from "./iam-documents";
import { ofTypes, safeProp } from "./links";
import { asArray, asRecord, type PlatformPolicy, violation } from "./support";

/**
 * Cloud IAM: AWS identity policies and role trust, resource policies (bucket, queue) and GCP
 * project-level grants. Each rule reads the documents the components pass as JSON strings, the
 * same bytes Checkov reads from the Terraform plan.
 */

const IDENTITY_POLICIES = [
  "aws:iam/policy:Policy",
  "aws:iam/rolePolicy:RolePolicy",
  "aws:iam/userPolicy:UserPolicy",
  "aws:iam/groupPolicy:GroupPolicy",
];
const ATTACHMENTS = [
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
  "aws:iam/userPolicyAttachment:UserPolicyAttachment",
  "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
  "aws:iam/policyAttachment:PolicyAttachment",
];
/** AWS managed policies that amount to administering the account (or IAM, which is the same). */
const ADMIN_POLICY_ARNS = ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess"].map((n) => `arn:aws:iam::aws:policy/${n}`);
const RESOURCE_POLICIES = ["aws:s3/bucketPolicy:BucketPolicy", "aws:sqs/queuePolicy:QueuePolicy", "aws:sns/topicPolicy:TopicPolicy"];

function each(types: string[], check: (r: PolicyResource, report: (message: string) => void) => void) {
  return (args: StackValidationArgs, report: ReportViolation) => {
    const found = ofTypes(args.resources, types);
    if (found.length === 0) args.notApplicable(`no ${types.map((t) => t.split(":").pop()).join("/")} in the stack`);
    for (const r of found) check(r, (message) => report(message, r.urn));
  };
}

/** What is wrong with one Allow statement of an identity policy, or undefined. */
export function identityStatementProblem(s: Statement): { problem: string; fix: string } | undefined {
  if (s.effect !== "Allow") return undefined;
  if (s.notActions.length)
    return {
      problem: `statement ${s.sid} allows NotAction [${s.notActions.join(", ")}], i.e. every other action`,
      fix: "list the actions granted in Action",
    };
  if (s.actions.includes("*"))
    return { problem: `statement ${s.sid} allows Action "*" (administrator)`, fix: "list the actions the workload calls" };
  const everyResource = s.resources.includes("*");
  const wildcards = s.actions.filter(isServiceWildcard);
  if (everyResource && wildcards.length)
    return {
      problem: `statement ${s.sid} allows ${wildcards.join(", ")} on every resource`,
      fix: "list the actions and name the resources' ARNs",
    };
  const writes = s.actions.filter((a) => !isReadOnlyAction(a));
  if (everyResource && !s.hasCondition && writes.length)
    return {
      problem: `statement ${s.sid} allows ${writes.join(", ")} on Resource "*" with no Condition`,
      fix: "name the resources' ARNs, or add a Condition (aws:ResourceTag, aws:RequestedRegion, an owner key) that scopes the call",
    };
  return undefined;
}

export const awsIamLeastPrivilege: PlatformPolicy = {
  area: "security",
  name: "aws-iam-least-privilege",
  description:
    'AWS identity policies grant named actions: no Action "*", no NotAction, no "service:*" on every resource, no write action on Resource "*" without a Condition; no administrator managed policy is attached.',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const documents = ofTypes(args.resources, IDENTITY_POLICIES);
    const attachments = ofTypes(args.resources, ATTACHMENTS);
    const roles = ofTypes(args.resources, ["aws:iam/role:Role"]);
    if (documents.length + attachments.length + roles.length === 0) args.notApplicable("no AWS IAM policies in the stack");
    for (const doc of documents) {
      for (const s of statements(safeProp(doc, "policy"))) {
        const wrong = identityStatementProblem(s);
        if (wrong) report(violation(`IAM policy "${doc.name}"`, wrong.problem, wrong.fix), doc.urn);
      }
    }
    const adminArns = (r: PolicyResource) =>
      [safeProp(r, "policyArn"), ...asArray(safeProp(r, "managedPolicyArns"))].filter((arn): arn is string =>
        ADMIN_POLICY_ARNS.includes(arn as string),
      );
    for (const r of [...attachments, ...roles]) {
      for (const arn of adminArns(r))
        report(
          violation(
            `IAM ${r.type.endsWith("Role") ? "role" : "attachment"} "${r.name}"`,
            `attaches ${arn}, which administers the account`,
            "attach a policy with the actions the role needs (an aws.iam.RolePolicy built by components/aws/iam-policy.ts)",
          ),
          r.urn,
        );
    }
  },
};

/** What is wrong with one Allow statement of a role's trust policy, or undefined. */
export function trustStatementProblem(s: Statement): { problem: string; fix: string } | undefined {
  if (s.effect !== "Allow") return undefined;
  if (principalIsEveryone(s) && !scopedByCondition(s))
    return {
      problem: `trust statement ${s.sid} lets any AWS principal (Principal "*") assume the role`,
      fix: "name the service (Principal.Service), the account's role ARN, or the OIDC provider (Principal.Federated)",
    };
  if (!s.actions.includes("sts:AssumeRoleWithWebIdentity") || !asRecord(s.principal).Federated) return undefined;
  const subjects = Object.values(s.condition)
    .flatMap((block) => Object.entries(block as Record<string, unknown>))
    .filter(([key]) => key.endsWith(":sub"))
    .flatMap(([, v]) => (Array.isArray(v) ? v : [v]))
    .map(String);
  if (subjects.length === 0)
    return {
      problem: `trust statement ${s.sid} lets every identity of the OIDC provider assume the role (no ":sub" condition)`,
      fix: 'add Condition.StringEquals["<provider>:sub"] = "system:serviceaccount:<namespace>:<name>" (components/aws/irsa.ts does)',
    };
  const wild = subjects.filter((v) => v.includes("*"));
  if (wild.length)
    return {
      problem: `trust statement ${s.sid} matches subjects by wildcard (${wild.join(", ")})`,
      fix: "name the one ServiceAccount with StringEquals",
    };
  return undefined;
}

export const awsIamRoleTrustScoped: PlatformPolicy = {
  area: "security",
  name: "aws-iam-role-trust-scoped",
  description:
    'An AWS role\'s trust policy names who may assume it: never Principal "*" (unless a Condition pins the account or organisation), and web-identity trust pins the exact ":sub" (one ServiceAccount).',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: each(["aws:iam/role:Role"], (role, report) => {
    for (const s of statements(safeProp(role, "assumeRolePolicy"))) {
      const wrong = trustStatementProblem(s);
      if (wrong) report(violation(`IAM role "${role.name}"`, wrong.problem, wrong.fix));
    }
  }),
};

export const awsResourcePoliciesNotPublic: PlatformPolicy = {
  area: "security",
  name: "aws-resource-policies-not-public",
  description:
    'Bucket, queue and topic policies allow nothing to everyone: an Allow with Principal "*" needs a Condition that pins the caller (aws:SourceArn, aws:SourceAccount, aws:PrincipalOrgID, a VPC endpoint).',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: each(RESOURCE_POLICIES, (policy, report) => {
    for (const s of statements(safeProp(policy, "policy"))) {
      if (s.effect === "Deny" || !principalIsEveryone(s) || scopedByCondition(s)) continue;
      report(
        violation(
          `resource policy "${policy.name}"`,
          `statement ${s.sid} allows ${s.actions.join(", ") || "every action"} to everyone (Principal "*")`,
          "name the principals (a role ARN, a service), or add a Condition on aws:SourceArn / aws:PrincipalOrgID; public reads go through a CDN with origin access control",
        ),
      );
    }
  }),
};

const GCP_PROJECT_GRANTS = ["gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding"];
const BASIC_ROLES = ["roles/owner", "roles/editor", "roles/viewer"];
/** Roles that act as any service account of the project when granted at project level. */
const IMPERSONATION_ROLES = ["roles/iam.serviceAccountUser", "roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountKeyAdmin"];
const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/** What is wrong with one project-level grant of `role` to `members`, or undefined. */
export function projectGrantProblem(role: string, members: string[]): { problem: string; fix: string } | undefined {
  const publicMembers = members.filter((m) => PUBLIC_MEMBERS.includes(m));
  if (publicMembers.length)
    return {
      problem: `grants ${role} to ${publicMembers.join(", ")} on the project`,
      fix: "grant roles to named service accounts or groups",
    };
  if (BASIC_ROLES.includes(role))
    return {
      problem: `grants the basic role ${role} (thousands of permissions across every service)`,
      fix: "grant the predefined roles the member needs (e.g. roles/bigquery.jobUser), on the resource where possible",
    };
  if (IMPERSONATION_ROLES.includes(role))
    return {
      problem: `grants ${role} at project level, so the member can act as every service account of the project`,
      fix: "grant it on the one service account (gcp.serviceaccount.IAMMember), as Workload Identity does",
    };
  const defaultAccount = members.find((m) => /-compute@developer\.gserviceaccount\.com$|@appspot\.gserviceaccount\.com$/.test(m));
  if (defaultAccount)
    return {
      problem: `grants ${role} to the default service account ${defaultAccount.replace(/^serviceAccount:/, "")}, which every VM and node uses`,
      fix: "create a dedicated service account (components/gcp/node-service-account.ts) and grant it instead",
    };
  return undefined;
}

export const gcpProjectIamLeastPrivilege: PlatformPolicy = {
  area: "security",
  name: "gcp-project-iam-least-privilege",
  description:
    "GCP project-level grants: no basic roles (owner, editor, viewer), no service-account user/token creator at project level, nothing to allUsers or the default compute service account.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: each(GCP_PROJECT_GRANTS, (grant, report) => {
    const role = String(safeProp(grant, "role") ?? "");
    const members = [safeProp(grant, "member"), ...asArray(safeProp(grant, "members"))].filter((m): m is string => typeof m === "string");
    const wrong = projectGrantProblem(role, members);
    if (wrong) report(violation(`project IAM grant "${grant.name}"`, wrong.problem, wrong.fix));
  }),
};

export const iamPolicies: PlatformPolicy[] = [
  awsIamLeastPrivilege,
  awsIamRoleTrustScoped,
  awsResourcePoliciesNotPublic,
  gcpProjectIamLeastPrivilege,
];
