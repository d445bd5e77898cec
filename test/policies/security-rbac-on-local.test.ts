import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The two RBAC policies (policies/security-rbac.ts) over local's real plan, broken one way at a
 * time, each case asserting the whole list of violations (message and fix). local's RBAC: the Role
 * models/train-fraud-scorer-trigger (get the CronJob train-fraud-scorer by name, create Jobs), bound
 * by a RoleBinding of the same name to the ServiceAccount mlops/drift, and the enforced
 * ValidatingAdmissionPolicy drift-creates-only-training-jobs (CREATE of batch/jobs in models, by
 * that user, failurePolicy Fail, bound with Deny) that limits what drift creates.
 */

const RBAC = "rbac.authorization.k8s.io";
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
const ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding";
const CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding";
const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const VAP_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const TRIGGER = 'Role "models/train-fraud-scorer-trigger"';
const DRIFT = "system:serviceaccount:mlops:drift";

const resources = realPlan("local");

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** The plan with the first resource of `type` changed (or removed, without `change`). */
const broken = (type: string, change?: (r: Props) => void) => withBreakage(resources, { type, change });
/** The plan with the trigger Role's rules replaced. */
const triggerRules = (...rules: Rule[]) =>
  broken(ROLE, (r) => {
    r.rules = rules;
  });
/** The plan with rules added to the trigger Role. */
const triggerAlso = (...rules: Rule[]) =>
  broken(ROLE, (r) => {
    r.rules = [...r.rules, ...rules];
  });

const LEAST_FIX = "list the apiGroups, resources and verbs the subject uses, with resourceNames where the verb allows it";
const leastPrivilege = (all: PlanResource[]): Found => violationsOf(all, "local", "rbac-least-privilege");
const grants = (subject: string, problems: string) => ({ message: `${subject}: grants ${problems}.`, fix: LEAST_FIX });

describe("rbac-least-privilege on local's real RBAC", () => {
  it("passes the real output", () => {
    expect(leastPrivilege(resources)).toEqual([]);
  });

  it('a "*" in each of apiGroups, resources and verbs is named, in that order, each once', () => {
    expect(
      leastPrivilege(
        triggerRules(
          { apiGroups: ["batch"], resources: ["jobs"], verbs: ["*"] },
          { apiGroups: ["*"], resources: ["*"], verbs: ["*"] },
          { apiGroups: ["*"], resources: ["jobs"], verbs: ["create"] },
        ),
      ),
    ).toEqual([
      grants(
        TRIGGER,
        'verbs "*"; apiGroups "*"; resources "*"; reads every Secret of its scope (get/list/watch secrets); escalate on roles (privilege escalation); escalate on clusterroles (privilege escalation); bind on roles (privilege escalation); bind on clusterroles (privilege escalation); bind on rolebindings (privilege escalation); bind on clusterrolebindings (privilege escalation); impersonate users; impersonate groups; impersonate serviceaccounts; pods/exec (a shell in, or a proxy to, other workloads); pods/attach (a shell in, or a proxy to, other workloads); nodes/proxy (a shell in, or a proxy to, other workloads)',
      ),
    ]);
  });

  it("a role with no rules grants nothing", () => {
    expect(
      leastPrivilege(
        broken(ROLE, (r) => {
          delete r.rules;
        }),
      ),
    ).toEqual([]);
  });

  it("no Role at all: nothing to report", () => {
    expect(leastPrivilege(broken(ROLE))).toEqual([]);
  });

  describe("Secrets", () => {
    const READS = "reads every Secret of its scope (get/list/watch secrets)";
    const LISTS = "lists Secrets (resourceNames does not limit list/watch)";
    for (const verb of ["get", "list", "watch"])
      it(`${verb} on every Secret reads them all`, () => {
        expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["secrets"], verbs: [verb] }))).toEqual([grants(TRIGGER, READS)]);
      });

    it("get of named Secrets is allowed", () => {
      expect(
        leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["mlflow-db"] })),
      ).toEqual([]);
    });

    for (const verb of ["list", "watch"])
      it(`${verb} of named Secrets is still reported`, () => {
        expect(
          leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["secrets"], verbs: [verb], resourceNames: ["mlflow-db"] })),
        ).toEqual([grants(TRIGGER, LISTS)]);
      });

    it("any apiGroup and every verb on secrets reads them, with both wildcards named", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: ["*"], resources: ["secrets"], verbs: ["*"] }))).toEqual([
        grants(TRIGGER, `apiGroups "*"; verbs "*"; ${READS}`),
      ]);
    });

    it("secrets of another apiGroup are not core Secrets", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: ["external-secrets.io"], resources: ["secrets"], verbs: ["get"] }))).toEqual([]);
    });

    it("create and delete of Secrets read nothing", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete"] }))).toEqual([]);
    });

    it("get on configmaps is not a Secret read", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }))).toEqual([]);
    });
  });

  describe("escalate, bind and impersonate", () => {
    const cases: [string, string, string][] = [
      ["roles", "escalate", "escalate on roles (privilege escalation)"],
      ["clusterroles", "escalate", "escalate on clusterroles (privilege escalation)"],
      ["roles", "bind", "bind on roles (privilege escalation)"],
      ["clusterroles", "bind", "bind on clusterroles (privilege escalation)"],
      ["rolebindings", "bind", "bind on rolebindings (privilege escalation)"],
      ["clusterrolebindings", "bind", "bind on clusterrolebindings (privilege escalation)"],
    ];
    for (const [resource, verb, problem] of cases)
      it(`${verb} on ${resource}`, () => {
        expect(leastPrivilege(triggerAlso({ apiGroups: [RBAC], resources: [resource], verbs: [verb] }))).toEqual([
          grants(TRIGGER, problem),
        ]);
      });

    it("bind on roles of the core group is not RBAC's", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["roles"], verbs: ["bind", "escalate"] }))).toEqual([]);
    });

    it("get and create on roles are not escalate or bind", () => {
      expect(leastPrivilege(triggerAlso({ apiGroups: [RBAC], resources: ["roles", "clusterroles"], verbs: ["get", "create"] }))).toEqual(
        [],
      );
    });

    for (const resource of ["users", "groups", "serviceaccounts"])
      it(`impersonate ${resource}`, () => {
        expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: [resource], verbs: ["impersonate"] }))).toEqual([
          grants(TRIGGER, `impersonate ${resource}`),
        ]);
      });

    it("get on serviceaccounts is not impersonation, nor impersonate in another group", () => {
      expect(
        leastPrivilege(
          triggerAlso(
            { apiGroups: [""], resources: ["serviceaccounts", "users"], verbs: ["get"] },
            { apiGroups: ["batch"], resources: ["serviceaccounts"], verbs: ["impersonate"] },
          ),
        ),
      ).toEqual([]);
    });
  });

  describe("exec, attach and the node proxy", () => {
    const SHELL = "(a shell in, or a proxy to, other workloads)";
    for (const sub of ["pods/exec", "pods/attach", "nodes/proxy"])
      for (const verb of ["create", "get"])
        it(`${verb} on ${sub}`, () => {
          expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: [sub], verbs: [verb] }))).toEqual([
            grants(TRIGGER, `${sub} ${SHELL}`),
          ]);
        });

    it("list on pods/exec, and get on pods, are neither", () => {
      expect(
        leastPrivilege(
          triggerAlso(
            { apiGroups: [""], resources: ["pods/exec"], verbs: ["list"] },
            { apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get"] },
          ),
        ),
      ).toEqual([]);
    });
  });

  it("the same problem in two rules is named once", () => {
    expect(
      leastPrivilege(
        triggerAlso(
          { apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] },
          { apiGroups: [""], resources: ["pods/exec"], verbs: ["get"] },
        ),
      ),
    ).toEqual([grants(TRIGGER, "pods/exec (a shell in, or a proxy to, other workloads)")]);
  });

  it("a ClusterRole is named as one, and each role gets its own violation", () => {
    const reader = resource(CLUSTER_ROLE, "secret-reader", {
      apiVersion: `${RBAC}/v1`,
      kind: "ClusterRole",
      metadata: { name: "secret-reader" },
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }],
    });
    const all = triggerAlso({ apiGroups: [RBAC], resources: ["roles"], verbs: ["bind"] });
    expect(leastPrivilege([...all, reader])).toEqual([
      grants(TRIGGER, "bind on roles (privilege escalation)"),
      grants('ClusterRole "secret-reader"', "reads every Secret of its scope (get/list/watch secrets)"),
    ]);
  });

  it("only Roles and ClusterRoles are read: a RoleBinding's fields grant nothing", () => {
    expect(
      leastPrivilege(
        broken(ROLE_BINDING, (r) => {
          r.rules = [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
        }),
      ),
    ).toEqual([]);
  });
});

const ADMITTED_FIX =
  "add an admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy matching CREATE of that resource, with a matchCondition on the user, failurePolicy Fail and a Deny binding (components/k8s/training-admission.ts)";
const admitted = (all: PlanResource[]): Found => violationsOf(all, "local", "rbac-workload-create-admitted");
const lets = (subject: string, user: string, creates: string) => ({
  message: `${subject}: lets ${user} create ${creates} with no ValidatingAdmissionPolicy limiting what it creates.`,
  fix: ADMITTED_FIX,
});
const DRIFT_JOBS = lets(TRIGGER, DRIFT, "batch/jobs");

/** The plan with the admission policy's first resource rule changed. */
const vapRule = (change: (rule: Props) => void) =>
  broken(VAP, (r) => {
    change(r.spec.matchConstraints.resourceRules[0]);
  });

describe("rbac-workload-create-admitted on local's real RBAC and admission policy", () => {
  it("passes the real output", () => {
    expect(admitted(resources)).toEqual([]);
  });

  describe("what the Role lets its subjects create", () => {
    const WORKLOADS: [string, string, string][] = [
      ["", "pods", "core/pods"],
      ["batch", "cronjobs", "batch/cronjobs"],
      ["apps", "deployments", "apps/deployments"],
      ["apps", "statefulsets", "apps/statefulsets"],
      ["apps", "daemonsets", "apps/daemonsets"],
      ["apps", "replicasets", "apps/replicasets"],
      ["", "replicationcontrollers", "core/replicationcontrollers"],
    ];
    for (const [group, resource, named] of WORKLOADS)
      it(`create ${named} is not what the policy admits`, () => {
        expect(admitted(triggerAlso({ apiGroups: [group], resources: [resource], verbs: ["create"] }))).toEqual([
          lets(TRIGGER, DRIFT, named),
        ]);
      });

    it('verbs "*" on every resource of every group lets it create every workload kind', () => {
      expect(admitted(triggerRules({ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }))).toEqual([
        lets(
          TRIGGER,
          DRIFT,
          "core/pods, batch/cronjobs, apps/deployments, apps/statefulsets, apps/daemonsets, apps/replicasets, core/replicationcontrollers",
        ),
      ]);
    });

    it("get and list are not create", () => {
      expect(admitted(triggerAlso({ apiGroups: ["", "apps"], resources: ["pods", "deployments"], verbs: ["get", "list"] }))).toEqual([]);
    });

    it("create of a resource in the wrong group creates nothing", () => {
      expect(admitted(triggerAlso({ apiGroups: ["apps"], resources: ["pods", "jobs"], verbs: ["create"] }))).toEqual([]);
    });

    it("a Role that creates nothing needs no admission policy", () => {
      expect(admitted(triggerRules({ apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get"] }))).toEqual([]);
      expect(
        admitted(triggerRules({ apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["get"] }).filter((r) => r.type !== VAP)),
      ).toEqual([]);
    });

    // create of one createDebug pod: creates nothing alone, and only through server-side apply beside patch of it
    const createDebug = { apiGroups: [""], resources: ["pods"], verbs: ["create"], resourceNames: ["debug"] };

    it("create limited by resourceNames authorizes no POST: it creates nothing alone", () => {
      expect(admitted(triggerAlso(createDebug))).toEqual([]);
      expect(
        admitted(triggerAlso(createDebug, { apiGroups: [""], resources: ["pods"], verbs: ["patch"], resourceNames: ["other"] })),
      ).toEqual([]);
    });

    it("beside patch of that name (or of every pod), server-side apply creates it: reported", () => {
      const reported = [lets(TRIGGER, DRIFT, "core/pods")];
      expect(
        admitted(triggerAlso(createDebug, { apiGroups: [""], resources: ["pods"], verbs: ["patch"], resourceNames: ["debug"] })),
      ).toEqual(reported);
      expect(admitted(triggerAlso(createDebug, { apiGroups: [""], resources: ["pods"], verbs: ["patch"] }))).toEqual(reported);
      expect(admitted(triggerAlso({ ...createDebug, verbs: ["create", "patch"] }))).toEqual(reported);
    });

    it("patch of several names, one of them the created one, is enough: reported", () => {
      const patch = { apiGroups: [""], resources: ["pods"], verbs: ["patch"], resourceNames: ["other", "debug"] };
      expect(admitted(triggerAlso(createDebug, patch))).toEqual([lets(TRIGGER, DRIFT, "core/pods")]);
    });

    it("create of jobs in two rules is named once", () => {
      expect(
        admitted(triggerAlso({ apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] }).filter((r) => r.type !== VAP_BINDING)),
      ).toEqual([DRIFT_JOBS]);
    });
  });

  describe("who the Role is bound to", () => {
    it("each ServiceAccount subject gets its own violation; subjects of other kinds none", () => {
      const all = broken(ROLE_BINDING, (r) => {
        r.subjects = [
          ...r.subjects,
          { kind: "ServiceAccount", name: "features", namespace: "mlops" },
          { kind: "User", name: "alice", apiGroup: RBAC },
          { kind: "Group", name: "ml-team", apiGroup: RBAC },
        ];
      });
      expect(admitted(all)).toEqual([lets(TRIGGER, "system:serviceaccount:mlops:features", "batch/jobs")]);
    });

    it("a ServiceAccount subject without a namespace is the binding's namespace's", () => {
      const all = broken(ROLE_BINDING, (r) => {
        r.subjects = [{ kind: "ServiceAccount", name: "drift" }];
      });
      expect(admitted(all)).toEqual([lets(TRIGGER, "system:serviceaccount:models:drift", "batch/jobs")]);
    });

    it("a binding in another namespace does not bind this Role", () => {
      const all = broken(ROLE_BINDING, (r) => {
        r.metadata.namespace = "mlops";
        r.subjects = [{ kind: "ServiceAccount", name: "features", namespace: "mlops" }];
      });
      expect(admitted(all)).toEqual([]);
    });

    it("a binding to a ClusterRole of the same name does not bind this Role", () => {
      const all = broken(ROLE_BINDING, (r) => {
        r.roleRef.kind = "ClusterRole";
        r.subjects = [{ kind: "ServiceAccount", name: "features", namespace: "mlops" }];
      });
      expect(admitted(all)).toEqual([]);
    });

    it("a binding to another Role does not bind this one", () => {
      const all = broken(ROLE_BINDING, (r) => {
        r.roleRef.name = "train-churn-predictor-trigger";
        r.subjects = [{ kind: "ServiceAccount", name: "features", namespace: "mlops" }];
      });
      expect(admitted(all)).toEqual([]);
    });

    it("an unbound Role lets nobody create anything", () => {
      expect(admitted(broken(ROLE_BINDING).filter((r) => r.type !== VAP))).toEqual([]);
    });

    it("a ClusterRoleBinding does not bind a Role", () => {
      const binding = resource(CLUSTER_ROLE_BINDING, "features-trigger", {
        apiVersion: `${RBAC}/v1`,
        kind: "ClusterRoleBinding",
        metadata: { name: "features-trigger" },
        roleRef: { apiGroup: RBAC, kind: "Role", name: "train-fraud-scorer-trigger" },
        subjects: [{ kind: "ServiceAccount", name: "features", namespace: "mlops" }],
      });
      expect(admitted([...resources, binding])).toEqual([]);
    });
  });

  describe("which admission policy limits it", () => {
    it("no admission policy", () => {
      expect(admitted(broken(VAP))).toEqual([DRIFT_JOBS]);
    });

    it("no binding of the policy", () => {
      expect(admitted(broken(VAP_BINDING))).toEqual([DRIFT_JOBS]);
    });

    it("a binding that only audits or warns", () => {
      expect(
        admitted(
          broken(VAP_BINDING, (r) => {
            r.spec.validationActions = ["Audit", "Warn"];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a binding that denies and warns enforces", () => {
      expect(
        admitted(
          broken(VAP_BINDING, (r) => {
            r.spec.validationActions = ["Warn", "Deny"];
          }),
        ),
      ).toEqual([]);
    });

    it("a Deny binding of another policy", () => {
      expect(
        admitted(
          broken(VAP_BINDING, (r) => {
            r.spec.policyName = "some-other-policy";
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a second, unrelated binding and policy change nothing", () => {
      const other = resource(VAP, "other-policy", {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: "other" },
        spec: { failurePolicy: "Fail", matchConstraints: { resourceRules: [] }, validations: [{ expression: "true" }] },
      });
      const otherBinding = resource(VAP_BINDING, "other-binding", {
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: { name: "other" },
        spec: { policyName: "other", validationActions: ["Audit"] },
      });
      expect(admitted([other, otherBinding, ...resources])).toEqual([]);
      expect(admitted([...resources, other, otherBinding])).toEqual([]);
    });

    it("a policy that fails open", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.failurePolicy = "Ignore";
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a policy without failurePolicy fails closed (the API's default is Fail)", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            delete r.spec.failurePolicy;
          }),
        ),
      ).toEqual([]);
    });

    it("a policy with no validations limits nothing", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.validations = [];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a policy with no match condition does not name the user", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            delete r.spec.matchConditions;
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("one of several match conditions naming the user is enough; one without an expression names nobody", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.matchConditions = [{ name: "empty" }, { name: "jobs", expression: "true" }, ...r.spec.matchConditions];
          }),
        ),
      ).toEqual([]);
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.matchConditions = [{ name: "empty" }];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a match condition must name the user exactly (quoted), not a user it is a prefix of", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.matchConditions[0].expression = 'request.userInfo.username == "system:serviceaccount:mlops:drift-2"';
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a policy of another apiGroup, resource or operation does not match", () => {
      expect(
        admitted(
          vapRule((rule) => {
            rule.apiGroups = ["apps"];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
      expect(
        admitted(
          vapRule((rule) => {
            rule.resources = ["cronjobs"];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
      expect(
        admitted(
          vapRule((rule) => {
            rule.operations = ["UPDATE", "DELETE"];
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it('operations "*" match CREATE, and so does a list with CREATE in it', () => {
      expect(
        admitted(
          vapRule((rule) => {
            rule.operations = ["*"];
          }),
        ),
      ).toEqual([]);
      expect(
        admitted(
          vapRule((rule) => {
            rule.operations = ["UPDATE", "CREATE"];
          }),
        ),
      ).toEqual([]);
    });

    it("one matching resource rule of several is enough, and a core rule covers core/pods", () => {
      const all = triggerAlso({ apiGroups: [""], resources: ["pods"], verbs: ["create"] });
      const withPods = withBreakage(all, {
        type: VAP,
        change: (r) => {
          r.spec.matchConstraints.resourceRules = [
            { apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] },
            ...r.spec.matchConstraints.resourceRules,
          ];
        },
      });
      expect(admitted(all)).toEqual([lets(TRIGGER, DRIFT, "core/pods")]);
      expect(admitted(withPods)).toEqual([]);
    });

    it("a policy for another namespace does not cover the Role's", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            r.spec.matchConstraints.namespaceSelector.matchLabels["kubernetes.io/metadata.name"] = "mlops";
          }),
        ),
      ).toEqual([DRIFT_JOBS]);
    });

    it("a policy without a namespaceSelector covers every namespace", () => {
      expect(
        admitted(
          broken(VAP, (r) => {
            delete r.spec.matchConstraints.namespaceSelector;
          }),
        ),
      ).toEqual([]);
    });

    it("an uncovered create of pods is named next to the covered Jobs, which are not", () => {
      expect(admitted(triggerAlso({ apiGroups: [""], resources: ["pods"], verbs: ["create"] }))).toEqual([
        lets(TRIGGER, DRIFT, "core/pods"),
      ]);
    });
  });
});

/** A ClusterRole (cluster-scoped: no namespace) with these rules, labels and aggregation rule. */
function clusterRole(name: string, rules: Rule[], extra: Props = {}): PlanResource {
  return resource(CLUSTER_ROLE, name, {
    apiVersion: `${RBAC}/v1`,
    kind: "ClusterRole",
    metadata: { name, labels: extra.labels },
    rules,
    aggregationRule: extra.aggregationRule,
  });
}
/** A binding of `roleRef` to ServiceAccount subjects: a RoleBinding in `namespace`, or a ClusterRoleBinding without one. */
function binding(roleRef: { kind: string; name: string }, subjects: Props[], namespace?: string): PlanResource {
  const kind = namespace ? "RoleBinding" : "ClusterRoleBinding";
  return resource(namespace ? ROLE_BINDING : CLUSTER_ROLE_BINDING, `${roleRef.name}-${namespace ?? "cluster"}`, {
    apiVersion: `${RBAC}/v1`,
    kind,
    metadata: { name: roleRef.name, namespace },
    roleRef: { apiGroup: RBAC, ...roleRef },
    subjects,
  });
}
const CREATE_JOBS: Rule = { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create"] };
const SA = (namespace: string | undefined, name: string) => ({ kind: "ServiceAccount", name, namespace });

describe("Kubernetes' own RBAC semantics", () => {
  it('"*/exec", "*/attach" and "*/proxy" grant that subresource of every resource, pods/exec and nodes/proxy included', () => {
    expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["*/exec", "*/attach"], verbs: ["create"] }))).toEqual([
      grants(TRIGGER, "pods/exec (a shell in, or a proxy to, other workloads); pods/attach (a shell in, or a proxy to, other workloads)"),
    ]);
    expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["*/proxy"], verbs: ["get"] }))).toEqual([
      grants(TRIGGER, "nodes/proxy (a shell in, or a proxy to, other workloads)"),
    ]);
  });

  it('"*/log" and "*/status" are other subresources, and "*/" alone is none', () => {
    expect(
      leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["*/log", "*/status", "*/", "*/pods/exec"], verbs: ["get", "create"] })),
    ).toEqual([]);
  });

  it("a ClusterRole is cluster-scoped: its name alone names it", () => {
    expect(
      leastPrivilege([...resources, clusterRole("secret-reader", [{ apiGroups: [""], resources: ["secrets"], verbs: ["list"] }])]),
    ).toEqual([grants('ClusterRole "secret-reader"', "reads every Secret of its scope (get/list/watch secrets)")]);
  });

  it("a ClusterRole bound by a ClusterRoleBinding creates in every namespace: a policy limited to models does not cover it", () => {
    const all = [
      ...resources,
      clusterRole("job-runner", [CREATE_JOBS]),
      binding({ kind: "ClusterRole", name: "job-runner" }, [SA("mlops", "drift")]),
    ];
    expect(admitted(all)).toEqual([
      {
        message:
          'ClusterRole "job-runner": lets system:serviceaccount:mlops:drift create batch/jobs in every namespace with no ValidatingAdmissionPolicy limiting what it creates.',
        fix: ADMITTED_FIX,
      },
    ]);
  });

  it("a cluster-wide grant is not covered by a policy for the namespace default either, only by one for every namespace", () => {
    const grant = [clusterRole("job-runner", [CREATE_JOBS]), binding({ kind: "ClusterRole", name: "job-runner" }, [SA("mlops", "drift")])];
    const forDefault = broken(VAP, (r) => {
      r.spec.matchConstraints.namespaceSelector.matchLabels["kubernetes.io/metadata.name"] = "default";
    });
    expect(admitted([...forDefault, ...grant]).map((v) => v.message)).toEqual([
      'Role "models/train-fraud-scorer-trigger": lets system:serviceaccount:mlops:drift create batch/jobs with no ValidatingAdmissionPolicy limiting what it creates.',
      'ClusterRole "job-runner": lets system:serviceaccount:mlops:drift create batch/jobs in every namespace with no ValidatingAdmissionPolicy limiting what it creates.',
    ]);
    const everywhere = broken(VAP, (r) => {
      delete r.spec.matchConstraints.namespaceSelector;
    });
    expect(admitted([...everywhere, ...grant])).toEqual([]);
  });

  it("a ClusterRole bound by a RoleBinding grants in the binding's namespace only, where the policy covers it", () => {
    const all = [
      ...resources,
      clusterRole("job-runner", [CREATE_JOBS]),
      binding({ kind: "ClusterRole", name: "job-runner" }, [SA("mlops", "drift")], "models"),
    ];
    expect(admitted(all)).toEqual([]);
  });

  it("a ServiceAccount subject without a namespace is the RoleBinding's, not the ClusterRole's", () => {
    const all = [
      ...resources,
      clusterRole("job-runner", [CREATE_JOBS]),
      binding({ kind: "ClusterRole", name: "job-runner" }, [SA(undefined, "features")], "mlops"),
    ];
    expect(admitted(all)).toEqual([
      {
        message:
          'ClusterRole "job-runner": lets system:serviceaccount:mlops:features create batch/jobs in namespace mlops with no ValidatingAdmissionPolicy limiting what it creates.',
        fix: ADMITTED_FIX,
      },
    ]);
  });

  it("an aggregated ClusterRole grants the rules of the ClusterRoles its selectors pick", () => {
    const all = [
      ...resources,
      clusterRole("ml-edit", [], {
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "mlops.platform/aggregate-to-ml-edit": "true" } }] },
      }),
      clusterRole("ml-edit-jobs", [CREATE_JOBS], { labels: { "mlops.platform/aggregate-to-ml-edit": "true" } }),
      clusterRole("ml-edit-pods", [{ apiGroups: [""], resources: ["pods"], verbs: ["create"] }], { labels: { other: "true" } }),
      binding({ kind: "ClusterRole", name: "ml-edit" }, [SA("mlops", "features")], "mlops"),
    ];
    expect(admitted(all)).toEqual([
      {
        message:
          'ClusterRole "ml-edit": lets system:serviceaccount:mlops:features create batch/jobs in namespace mlops with no ValidatingAdmissionPolicy limiting what it creates.',
        fix: ADMITTED_FIX,
      },
    ]);
  });

  it("aggregation nests: an aggregate of an aggregate grants what the inner one picks", () => {
    const all = [
      ...resources,
      clusterRole("ml-admin", [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "aggregate-to-ml-admin": "true" } }] } }),
      clusterRole("ml-edit", [], {
        labels: { "aggregate-to-ml-admin": "true" },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { "aggregate-to-ml-edit": "true" } }] },
      }),
      clusterRole("ml-edit-jobs", [CREATE_JOBS], { labels: { "aggregate-to-ml-edit": "true" } }),
      binding({ kind: "ClusterRole", name: "ml-admin" }, [SA("mlops", "features")]),
    ];
    expect(admitted(all).map((v) => v.message)).toEqual([
      'ClusterRole "ml-admin": lets system:serviceaccount:mlops:features create batch/jobs in every namespace with no ValidatingAdmissionPolicy limiting what it creates.',
    ]);
  });

  it("a User named as a ServiceAccount is that ServiceAccount", () => {
    const all = broken(ROLE_BINDING, (r) => {
      r.subjects = [{ kind: "User", apiGroup: RBAC, name: "system:serviceaccount:mlops:features" }];
    });
    expect(admitted(all)).toEqual([lets(TRIGGER, "system:serviceaccount:mlops:features", "batch/jobs")]);
  });

  it("the ServiceAccount groups are every ServiceAccount of a namespace, or of the cluster", () => {
    const all = broken(ROLE_BINDING, (r) => {
      r.subjects = [
        { kind: "Group", apiGroup: RBAC, name: "system:serviceaccounts:mlops" },
        { kind: "Group", apiGroup: RBAC, name: "system:serviceaccounts" },
        { kind: "Group", apiGroup: RBAC, name: "system:authenticated" },
      ];
    });
    expect(admitted(all)).toEqual([
      lets(TRIGGER, "system:serviceaccounts:mlops", "batch/jobs"),
      lets(TRIGGER, "system:serviceaccounts", "batch/jobs"),
    ]);
  });

  it("an objectSelector on the policy lets the creator leave it out: it does not cover", () => {
    expect(
      admitted(
        broken(VAP, (r) => {
          r.spec.matchConstraints.objectSelector = { matchLabels: { "mlops.platform/training": "true" } };
        }),
      ),
    ).toEqual([DRIFT_JOBS]);
    expect(
      admitted(
        broken(VAP, (r) => {
          r.spec.matchConstraints.objectSelector = {};
        }),
      ),
    ).toEqual([]);
  });

  it("a binding whose matchResources narrow by object labels does not cover", () => {
    expect(
      admitted(
        broken(VAP_BINDING, (r) => {
          r.spec.matchResources = { objectSelector: { matchLabels: { "mlops.platform/training": "true" } } };
        }),
      ),
    ).toEqual([DRIFT_JOBS]);
  });

  it("a policy that excludes the resource it matches does not cover it", () => {
    expect(
      admitted(
        broken(VAP, (r) => {
          r.spec.matchConstraints.excludeResourceRules = [
            { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] },
          ];
        }),
      ),
    ).toEqual([DRIFT_JOBS]);
  });
});

describe("a binding of the admission policy narrowed to some namespaces", () => {
  const narrowTo = (namespace: string) =>
    broken(VAP_BINDING, (r) => {
      r.spec.matchResources = { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } };
    });

  it("covers the Role's namespace, and only that one", () => {
    expect(admitted(narrowTo("models"))).toEqual([]);
    expect(admitted(narrowTo("mlops"))).toEqual([DRIFT_JOBS]);
  });
});

describe("edges of what grants and what binds", () => {
  it('a rule resource "*s" is not a wildcard: only "*" and "*/<subresource>" are', () => {
    expect(leastPrivilege(triggerAlso({ apiGroups: [""], resources: ["*s", "*c"], verbs: ["get", "create"] }))).toEqual([]);
  });

  it("aggregates that select each other, and themselves, grant each rule once and terminate", () => {
    const all = [
      ...resources,
      clusterRole("ml-a", [], { labels: { y: "true" }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: "true" } }] } }),
      clusterRole("ml-b", [CREATE_JOBS], {
        labels: { x: "true", y: "true" },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { y: "true" } }] },
      }),
      binding({ kind: "ClusterRole", name: "ml-a" }, [SA("mlops", "features")], "mlops"),
    ];
    expect(admitted(all).map((v) => v.message)).toEqual([
      'ClusterRole "ml-a": lets system:serviceaccount:mlops:features create batch/jobs in namespace mlops with no ValidatingAdmissionPolicy limiting what it creates.',
    ]);
  });

  it("a Group named like a ServiceAccount's username is not that ServiceAccount", () => {
    const all = broken(ROLE_BINDING, (r) => {
      r.subjects = [{ kind: "Group", apiGroup: RBAC, name: "system:serviceaccount:mlops:features" }];
    });
    expect(admitted(all)).toEqual([]);
  });

  it("only RoleBindings and ClusterRoleBindings bind: another kind with a roleRef does not", () => {
    const lookalike = resource("kubernetes:example.com/v1:RoleBindingTemplate", "template", {
      apiVersion: "example.com/v1",
      kind: "RoleBindingTemplate",
      metadata: { name: "template", namespace: "models" },
      roleRef: { apiGroup: RBAC, kind: "Role", name: "train-fraud-scorer-trigger" },
      subjects: [SA("mlops", "features")],
    });
    expect(admitted([...resources, lookalike])).toEqual([]);
  });

  it("a RoleBinding to a Role of a ClusterRole's name does not bind the ClusterRole", () => {
    const all = [
      ...resources,
      clusterRole("job-runner", [CREATE_JOBS]),
      binding({ kind: "Role", name: "job-runner" }, [SA("mlops", "features")], "mlops"),
    ];
    expect(admitted(all)).toEqual([]);
  });

  it("a ClusterRoleBinding cannot bind a Role, even one in the namespace default", () => {
    const role = resource(ROLE, "default-job-runner", {
      apiVersion: `${RBAC}/v1`,
      kind: "Role",
      metadata: { name: "job-runner", namespace: "default" },
      rules: [CREATE_JOBS],
    });
    expect(admitted([...resources, role, binding({ kind: "Role", name: "job-runner" }, [SA("mlops", "features")])])).toEqual([]);
  });

  it("an objectSelector of matchExpressions only still narrows the policy", () => {
    expect(
      admitted(
        broken(VAP, (r) => {
          r.spec.matchConstraints.objectSelector = { matchExpressions: [{ key: "mlops.platform/training", operator: "Exists" }] };
        }),
      ),
    ).toEqual([DRIFT_JOBS]);
  });

  it("a cluster-wide grant is not covered by a namespaceSelector that names no namespace", () => {
    const grant = [clusterRole("job-runner", [CREATE_JOBS]), binding({ kind: "ClusterRole", name: "job-runner" }, [SA("mlops", "drift")])];
    const byExpression = broken(VAP, (r) => {
      r.spec.matchConstraints.namespaceSelector = { matchExpressions: [{ key: "team", operator: "In", values: ["ml"] }] };
    });
    expect(admitted([...byExpression, ...grant]).map((v) => v.message)).toEqual([
      'Role "models/train-fraud-scorer-trigger": lets system:serviceaccount:mlops:drift create batch/jobs with no ValidatingAdmissionPolicy limiting what it creates.',
      'ClusterRole "job-runner": lets system:serviceaccount:mlops:drift create batch/jobs in every namespace with no ValidatingAdmissionPolicy limiting what it creates.',
    ]);
  });
});
