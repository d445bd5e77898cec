import type { PolicyResource } from "@pulumi/policy";
import { isKind, objectMeta } from "./kubernetes";
import { safeProp } from "./links";
import { asArray, asRecord, type PlatformPolicy, violation } from "./support";

/**
 * Kubernetes RBAC: what a Role or ClusterRole grants, rule by rule (the scanners read the same:
 * Checkov CKV_K8S_49 wildcards, CKV_K8S_157/158 bind/escalate, trivy KSV-0050), and whether a
 * grant RBAC cannot narrow (create pods or Jobs) is narrowed by a ValidatingAdmissionPolicy.
 */

const RBAC = "rbac.authorization.k8s.io";
const ADMISSION = "admissionregistration.k8s.io";

export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
}

function rulesOf(role: PolicyResource): RbacRule[] {
  return asArray(safeProp(role, "rules")).map((r) => {
    const rule = asRecord(r);
    const list = (key: string) => asArray(rule[key]).map(String);
    return { apiGroups: list("apiGroups"), resources: list("resources"), verbs: list("verbs"), resourceNames: list("resourceNames") };
  });
}

const grants = (rule: RbacRule, group: string, resource: string, verbs: string[]) =>
  (rule.apiGroups.includes(group) || rule.apiGroups.includes("*")) &&
  (rule.resources.includes(resource) || rule.resources.includes("*")) &&
  (rule.verbs.includes("*") || verbs.some((v) => rule.verbs.includes(v)));

/** Resources (group/resource) whose create runs code with some ServiceAccount's identity. */
export const WORKLOAD_RESOURCES: [string, string][] = [
  ["", "pods"],
  ["batch", "jobs"],
  ["batch", "cronjobs"],
  ["apps", "deployments"],
  ["apps", "statefulsets"],
  ["apps", "daemonsets"],
  ["apps", "replicasets"],
  ["", "replicationcontrollers"],
];

/** Problems of one rule that no admission policy can excuse. */
export function ruleProblems(rule: RbacRule): string[] {
  const problems: string[] = [];
  for (const [field, values] of Object.entries({ apiGroups: rule.apiGroups, resources: rule.resources, verbs: rule.verbs }))
    if (values.includes("*")) problems.push(`${field} "*"`);
  if (rule.resourceNames.length === 0 && grants(rule, "", "secrets", ["get", "list", "watch"]))
    problems.push("reads every Secret of its scope (get/list/watch secrets)");
  else if (grants(rule, "", "secrets", ["list", "watch"])) problems.push("lists Secrets (resourceNames does not limit list/watch)");
  for (const [resource, verb] of [
    ["roles", "escalate"],
    ["clusterroles", "escalate"],
    ["roles", "bind"],
    ["clusterroles", "bind"],
    ["rolebindings", "bind"],
    ["clusterrolebindings", "bind"],
  ] as const)
    if (grants(rule, RBAC, resource, [verb])) problems.push(`${verb} on ${resource} (privilege escalation)`);
  for (const resource of ["users", "groups", "serviceaccounts"])
    if (grants(rule, "", resource, ["impersonate"])) problems.push(`impersonate ${resource}`);
  for (const sub of ["pods/exec", "pods/attach", "nodes/proxy"])
    if (grants(rule, "", sub, ["create", "get"])) problems.push(`${sub} (a shell in, or a proxy to, other workloads)`);
  return problems;
}

/** group/resource pairs of workload kinds the rule lets its subjects create. */
export function workloadCreates(rule: RbacRule): string[] {
  return WORKLOAD_RESOURCES.filter(([group, resource]) => grants(rule, group, resource, ["create"])).map(
    ([group, resource]) => `${group || "core"}/${resource}`,
  );
}

const roleKinds = (r: PolicyResource) => isKind(r.type, RBAC, "Role") || isKind(r.type, RBAC, "ClusterRole");
const meta = (r: PolicyResource) => objectMeta(asRecord(r.props), r.name);

export const rbacLeastPrivilege: PlatformPolicy = {
  area: "security",
  name: "rbac-least-privilege",
  description:
    'Roles and ClusterRoles name what they grant: no "*" in apiGroups, resources or verbs; no reading Secrets without resourceNames; no escalate, bind or impersonate; no pods/exec, pods/attach or nodes/proxy.',
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const roles = args.resources.filter(roleKinds);
    if (roles.length === 0) args.notApplicable("no Roles or ClusterRoles in the stack");
    for (const role of roles) {
      const problems = rulesOf(role).flatMap(ruleProblems);
      if (problems.length)
        report(
          violation(
            `${role.type.endsWith("ClusterRole") ? "ClusterRole" : "Role"} "${meta(role).ref}"`,
            `grants ${[...new Set(problems)].join("; ")}`,
            "list the apiGroups, resources and verbs the subject uses, with resourceNames where the verb allows it",
          ),
          role.urn,
        );
    }
  },
};

/** A Kubernetes username of each ServiceAccount subject bound to the role. */
function boundServiceAccounts(role: PolicyResource, resources: PolicyResource[]): string[] {
  const { name, namespace } = meta(role);
  const isCluster = role.type.endsWith("ClusterRole");
  return resources
    .filter((b) => isKind(b.type, RBAC, "RoleBinding") || isKind(b.type, RBAC, "ClusterRoleBinding"))
    .filter((b) => {
      const ref = asRecord(safeProp(b, "roleRef"));
      return ref.name === name && (ref.kind === "ClusterRole") === isCluster && (isCluster || meta(b).namespace === namespace);
    })
    .flatMap((b) => asArray(safeProp(b, "subjects")).map(asRecord))
    .filter((s) => s.kind === "ServiceAccount")
    .map((s) => `system:serviceaccount:${String(s.namespace ?? meta(role).namespace)}:${String(s.name)}`);
}

/**
 * Whether an enforced ValidatingAdmissionPolicy covers CREATE of `groupResource` by `username` in
 * `namespace`: the policy matches the resource and the namespace, names the user in a match
 * condition, fails closed, has a validation, and a binding with the Deny action refers to it.
 */
export function admissionCovers(resources: PolicyResource[], groupResource: string, username: string, namespace: string): boolean {
  const [group, resource] = groupResource.split("/") as [string, string];
  const bindings = resources.filter((r) => isKind(r.type, ADMISSION, "ValidatingAdmissionPolicyBinding"));
  return resources
    .filter((r) => isKind(r.type, ADMISSION, "ValidatingAdmissionPolicy"))
    .some((policy) => {
      const spec = asRecord(safeProp(policy, "spec"));
      const constraints = asRecord(spec.matchConstraints);
      const matchesResource = asArray(constraints.resourceRules)
        .map(asRecord)
        .some(
          (r) =>
            asArray(r.apiGroups).includes(group === "core" ? "" : group) &&
            asArray(r.resources).includes(resource) &&
            (asArray(r.operations).includes("CREATE") || asArray(r.operations).includes("*")),
        );
      const selected = asRecord(asRecord(constraints.namespaceSelector).matchLabels)["kubernetes.io/metadata.name"];
      const matchesNamespace = constraints.namespaceSelector === undefined || selected === namespace;
      const namesUser = asArray(spec.matchConditions).some((c) => String(asRecord(c).expression ?? "").includes(JSON.stringify(username)));
      const bound = bindings.some((b) => {
        const bspec = asRecord(safeProp(b, "spec"));
        return bspec.policyName === meta(policy).name && asArray(bspec.validationActions).includes("Deny");
      });
      return (
        matchesResource && matchesNamespace && namesUser && spec.failurePolicy !== "Ignore" && asArray(spec.validations).length > 0 && bound
      );
    });
}

export const rbacWorkloadCreateAdmitted: PlatformPolicy = {
  area: "security",
  name: "rbac-workload-create-admitted",
  description:
    "A ServiceAccount allowed to create pods or workloads (Jobs, Deployments, ...) is limited by an enforced ValidatingAdmissionPolicy, since RBAC cannot limit create by name: whoever creates a pod runs code as any ServiceAccount of the namespace.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const roles = args.resources.filter(roleKinds);
    if (roles.length === 0) args.notApplicable("no Roles or ClusterRoles in the stack");
    for (const role of roles) {
      const creates = [...new Set(rulesOf(role).flatMap(workloadCreates))];
      if (creates.length === 0) continue;
      for (const user of boundServiceAccounts(role, args.resources)) {
        const open = creates.filter((gr) => !admissionCovers(args.resources, gr, user, meta(role).namespace));
        if (open.length)
          report(
            violation(
              `Role "${meta(role).ref}"`,
              `lets ${user} create ${open.join(", ")} with no ValidatingAdmissionPolicy limiting what it creates`,
              "add an admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy matching CREATE of that resource, with a matchCondition on the user, failurePolicy Fail and a Deny binding (components/k8s/training-admission.ts)",
            ),
            role.urn,
          );
      }
    }
  },
};

export const rbacPolicies: PlatformPolicy[] = [rbacLeastPrivilege, rbacWorkloadCreateAdmitted];
