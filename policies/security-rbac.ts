import type { PolicyResource } from "@pulumi/policy";
import { compileSelector, isKind, objectMeta } from "./kubernetes";
import { safeProp } from "./links";
import { asArray, asRecord, get, type PlatformPolicy, violation } from "./support";

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

// Whether rule resources name `resource` ("pods", "pods/exec") as RBAC reads them: "*" is every
// resource, and "*/exec" the exec subresource of every one (a line comment: that slash ends a block one).
const namesResource = (resources: string[], resource: string) => {
  const sub = resource.indexOf("/");
  return resources.some((r) => r === "*" || r === resource || (sub >= 0 && r === `*${resource.slice(sub)}`));
};

const grants = (rule: RbacRule, group: string, resource: string, verbs: string[]) =>
  (rule.apiGroups.includes(group) || rule.apiGroups.includes("*")) &&
  namesResource(rule.resources, resource) &&
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

/**
 * group/resource pairs of workload kinds the rules let their subjects create. A create rule limited
 * by resourceNames authorizes no POST (the new object's name is not known then); it only authorizes
 * the create that server-side apply makes of a missing object, which the API server checks with the
 * object's name once patch is allowed (k8s.io/apiserver endpoints/handlers/patch.go,
 * createAuthorizerAttributes). So it counts only beside patch of that resource, unnamed or of one
 * of the same names.
 */
export function workloadCreates(rules: RbacRule[]): string[] {
  const patchable = (group: string, resource: string, names: string[]) =>
    rules.some(
      (p) => grants(p, group, resource, ["patch"]) && (p.resourceNames.length === 0 || p.resourceNames.some((n) => names.includes(n))),
    );
  return WORKLOAD_RESOURCES.filter(([group, resource]) =>
    rules.some(
      (rule) =>
        grants(rule, group, resource, ["create"]) && (rule.resourceNames.length === 0 || patchable(group, resource, rule.resourceNames)),
    ),
  ).map(([group, resource]) => `${group || "core"}/${resource}`);
}

const isClusterRole = (r: PolicyResource) => isKind(r.type, RBAC, "ClusterRole");
const roleKinds = (r: PolicyResource) => isKind(r.type, RBAC, "Role") || isClusterRole(r);
const meta = (r: PolicyResource) => objectMeta(asRecord(r.props), r.name);
/** A Role by "namespace/name"; a ClusterRole, cluster-scoped, by its name. */
const roleRef = (r: PolicyResource) => (isClusterRole(r) ? `ClusterRole "${meta(r).name}"` : `Role "${meta(r).ref}"`);

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
            roleRef(role),
            `grants ${[...new Set(problems)].join("; ")}`,
            "list the apiGroups, resources and verbs the subject uses, with resourceNames where the verb allows it",
          ),
          role.urn,
        );
    }
  },
};

/**
 * The rules a role grants: its own and, for an aggregated ClusterRole, those of the ClusterRoles its
 * aggregationRule's selectors pick (the controller copies them in; aggregates of aggregates too).
 */
function grantedRules(role: PolicyResource, clusterRoles: PolicyResource[], seen = new Set<PolicyResource>([role])): RbacRule[] {
  const selectors = asArray(get(safeProp(role, "aggregationRule"), "clusterRoleSelectors")).map(compileSelector);
  const picked = clusterRoles.filter((c) => !seen.has(c) && selectors.some((selects) => selects(meta(c).labels)));
  for (const c of picked) seen.add(c);
  return [...rulesOf(role), ...picked.flatMap((c) => grantedRules(c, clusterRoles, seen))];
}

/**
 * Who a subject is to the admission policy's match condition, when it is ServiceAccounts: a
 * ServiceAccount's username (its namespace defaults to the binding's), a User named as one, or the
 * group of every ServiceAccount of a namespace or of the cluster. Other Users and Groups are people.
 */
function serviceAccountPrincipal(subject: Record<string, unknown>, bindingNamespace: string): string | undefined {
  const name = String(subject.name);
  if (subject.kind === "ServiceAccount") return `system:serviceaccount:${String(subject.namespace ?? bindingNamespace)}:${name}`;
  if (subject.kind === "User" && name.startsWith("system:serviceaccount:")) return name;
  if (subject.kind === "Group" && (name === "system:serviceaccounts" || name.startsWith("system:serviceaccounts:"))) return name;
  return undefined;
}

/** A ServiceAccount principal the role is bound to, and the namespace it holds the role in (undefined: every namespace). */
interface Grant {
  principal: string;
  namespace?: string;
}

/**
 * Each ServiceAccount principal bound to the role: a Role only by RoleBindings of its namespace, a
 * ClusterRole by RoleBindings (in that binding's namespace) and ClusterRoleBindings (in every one).
 */
function boundServiceAccounts(role: PolicyResource, resources: PolicyResource[]): Grant[] {
  const { name, namespace } = meta(role);
  const cluster = isClusterRole(role);
  return resources.flatMap((b) => {
    const roleBinding = isKind(b.type, RBAC, "RoleBinding");
    if (!roleBinding && !isKind(b.type, RBAC, "ClusterRoleBinding")) return [];
    const ref = asRecord(safeProp(b, "roleRef"));
    const where = meta(b).namespace;
    const binds = ref.name === name && (cluster ? ref.kind === "ClusterRole" : ref.kind === "Role" && roleBinding && where === namespace);
    if (!binds) return [];
    return asArray(safeProp(b, "subjects")).flatMap((s): Grant[] => {
      const principal = serviceAccountPrincipal(asRecord(s), where);
      return principal ? [{ principal, namespace: roleBinding ? where : undefined }] : [];
    });
  });
}

/** Whether a label selector is absent or empty, so it selects every object. */
const selectsAll = (selector: unknown) =>
  Object.keys(asRecord(get(selector, "matchLabels"))).length === 0 && asArray(get(selector, "matchExpressions")).length === 0;
/** Whether a namespaceSelector is absent, or picks `namespace` by name (undefined: every namespace, which only no selector covers). */
const selectsNamespace = (selector: unknown, namespace: string | undefined) =>
  selector === undefined || (namespace !== undefined && get(selector, "matchLabels", "kubernetes.io/metadata.name") === namespace);

/**
 * Whether an enforced ValidatingAdmissionPolicy covers CREATE of `groupResource` by `username` in
 * `namespace` (undefined: in every namespace): the policy matches the resource and does not exclude
 * it, matches the namespace and every object (an objectSelector is one the creator can leave out),
 * names the user in a match condition, fails closed, has a validation, and a binding with the Deny
 * action refers to it without narrowing it to some namespaces or objects.
 */
export function admissionCovers(
  resources: PolicyResource[],
  groupResource: string,
  username: string,
  namespace: string | undefined,
): boolean {
  const [group, resource] = groupResource.split("/") as [string, string];
  const bindings = resources.filter((r) => isKind(r.type, ADMISSION, "ValidatingAdmissionPolicyBinding"));
  return resources
    .filter((r) => isKind(r.type, ADMISSION, "ValidatingAdmissionPolicy"))
    .some((policy) => {
      const spec = asRecord(safeProp(policy, "spec"));
      const constraints = asRecord(spec.matchConstraints);
      const matchesCreate = (rules: unknown) =>
        asArray(rules)
          .map(asRecord)
          .some(
            (r) =>
              asArray(r.apiGroups).includes(group === "core" ? "" : group) &&
              asArray(r.resources).includes(resource) &&
              (asArray(r.operations).includes("CREATE") || asArray(r.operations).includes("*")),
          );
      const matchesResource = matchesCreate(constraints.resourceRules) && !matchesCreate(constraints.excludeResourceRules);
      const matchesNamespace = selectsNamespace(constraints.namespaceSelector, namespace) && selectsAll(constraints.objectSelector);
      const namesUser = asArray(spec.matchConditions).some((c) => String(asRecord(c).expression).includes(JSON.stringify(username)));
      const bound = bindings.some((b) => {
        const bspec = asRecord(safeProp(b, "spec"));
        const narrowed = asRecord(bspec.matchResources);
        return (
          bspec.policyName === meta(policy).name &&
          asArray(bspec.validationActions).includes("Deny") &&
          selectsNamespace(narrowed.namespaceSelector, namespace) &&
          selectsAll(narrowed.objectSelector)
        );
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
    const clusterRoles = roles.filter(isClusterRole);
    for (const role of roles) {
      const creates = workloadCreates(grantedRules(role, clusterRoles));
      for (const { principal, namespace } of boundServiceAccounts(role, args.resources)) {
        const open = creates.filter((gr) => !admissionCovers(args.resources, gr, principal, namespace));
        // A Role's namespace is its own; a ClusterRole's is its binding's, or every one.
        const scope = !isClusterRole(role) ? "" : namespace ? ` in namespace ${namespace}` : " in every namespace";
        if (open.length)
          report(
            violation(
              roleRef(role),
              `lets ${principal} create ${open.join(", ")}${scope} with no ValidatingAdmissionPolicy limiting what it creates`,
              "add an admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy matching CREATE of that resource, with a matchCondition on the user, failurePolicy Fail and a Deny binding (components/k8s/training-admission.ts)",
            ),
            role.urn,
          );
      }
    }
  },
};

export const rbacPolicies: PlatformPolicy[] = [rbacLeastPrivilege, rbacWorkloadCreateAdmitted];
