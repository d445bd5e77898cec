import { type Props, resource } from "./fixtures/resource";
import { describeRealRules } from "./fixtures/real-rules";

// local: the Kubernetes layer every stack shares (RBAC, the training Jobs' admission policy, Istio),
// each broken once on the real output.
const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
const VAP = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy";
const VAP_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding";
const AUTHZ = "kubernetes:security.istio.io/v1:AuthorizationPolicy";
const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
const TRIGGER = 'Role "models/train-fraud-scorer-trigger"';
const addRule = (rule: Props) => (r: Props) => {
  r.rules = [...r.rules, rule];
};
const withName = (name: string) => (r: { inputs: Props }) => r.inputs.metadata?.name === name;
const gateway = (servers: Props[]) => () => [
  resource("kubernetes:networking.istio.io/v1:Gateway", "public-gw", {
    apiVersion: "networking.istio.io/v1",
    kind: "Gateway",
    metadata: { name: "public", namespace: "istio-system" },
    spec: { selector: { istio: "ingressgateway" }, servers },
  }),
];

describeRealRules(
  "local",
  ["rbac-least-privilege", "rbac-workload-create-admitted", "istio-no-allow-all", "istio-destination-rule-tls", "istio-gateway-tls"],
  [
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role grants every verb",
      type: ROLE,
      edit: (r) => {
        r.rules[0].verbs = ["*"];
      },
      names: `${TRIGGER}: grants verbs "*"`,
      fix: "list the apiGroups, resources and verbs",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role reads Secrets",
      type: ROLE,
      edit: addRule({ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }),
      names: "reads every Secret of its scope",
      fix: "resourceNames",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role lists named Secrets",
      type: ROLE,
      edit: addRule({ apiGroups: [""], resources: ["secrets"], resourceNames: ["mlflow-db"], verbs: ["list"] }),
      names: "lists Secrets (resourceNames does not limit list/watch)",
      fix: "resourceNames",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role may bind ClusterRoles",
      type: ROLE,
      edit: addRule({ apiGroups: ["rbac.authorization.k8s.io"], resources: ["clusterroles"], verbs: ["bind"] }),
      names: "bind on clusterroles (privilege escalation)",
      fix: "list the apiGroups",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role may escalate Roles",
      type: ROLE,
      edit: addRule({ apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: ["escalate"] }),
      names: "escalate on roles",
      fix: "list the apiGroups",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role may impersonate ServiceAccounts",
      type: ROLE,
      edit: addRule({ apiGroups: [""], resources: ["serviceaccounts"], verbs: ["impersonate"] }),
      names: "impersonate serviceaccounts",
      fix: "list the apiGroups",
    },
    {
      policy: "rbac-least-privilege",
      change: "the trigger Role may exec into pods",
      type: ROLE,
      edit: addRule({ apiGroups: [""], resources: ["pods/exec"], verbs: ["create"] }),
      names: "pods/exec",
      fix: "list the apiGroups",
    },
    {
      policy: "rbac-workload-create-admitted",
      change: "the training admission policy is gone",
      type: VAP,
      names: `${TRIGGER}: lets system:serviceaccount:mlops:drift create batch/jobs with no ValidatingAdmissionPolicy`,
      fix: "ValidatingAdmissionPolicy matching CREATE",
    },
    {
      policy: "rbac-workload-create-admitted",
      change: "the policy's binding only audits",
      type: VAP_BINDING,
      edit: (r) => {
        r.spec.validationActions = ["Audit"];
      },
      names: "create batch/jobs",
      fix: "a Deny binding",
    },
    {
      policy: "rbac-workload-create-admitted",
      change: "the policy fails open",
      type: VAP,
      edit: (r) => {
        r.spec.failurePolicy = "Ignore";
      },
      names: "create batch/jobs",
      fix: "failurePolicy Fail",
    },
    {
      policy: "rbac-workload-create-admitted",
      change: "the policy matches another user",
      type: VAP,
      edit: (r) => {
        r.spec.matchConditions[0].expression = 'request.userInfo.username == "system:serviceaccount:mlops:features"';
      },
      names: "system:serviceaccount:mlops:drift create batch/jobs",
      fix: "matchCondition on the user",
    },
    {
      policy: "rbac-workload-create-admitted",
      change: "the trigger Role may also create pods, which the policy does not match",
      type: ROLE,
      edit: addRule({ apiGroups: [""], resources: ["pods"], verbs: ["create"] }),
      names: "create core/pods with no",
      fix: "ValidatingAdmissionPolicy",
    },
    {
      policy: "istio-no-allow-all",
      change: "the features policy gets an empty rule",
      type: AUTHZ,
      match: withName("allow-features"),
      edit: (r) => {
        r.spec.rules = [...r.spec.rules, {}];
      },
      names:
        'AuthorizationPolicy "mlops/allow-features": has a rule that matches every request, so the workloads it selects accept any caller',
      fix: "rules[].from",
    },
    {
      policy: "istio-no-allow-all",
      change: "a namespace-wide policy allows from an empty source list",
      type: AUTHZ,
      match: withName("allow-prometheus-scrape"),
      edit: (r) => {
        r.spec.rules = [{ from: [{ source: {} }] }];
      },
      names: "accept any caller",
      fix: "principals or namespaces",
    },
    {
      policy: "istio-destination-rule-tls",
      change: "a model's DestinationRule disables TLS",
      type: DR,
      edit: (r) => {
        r.spec.trafficPolicy.tls.mode = "DISABLE";
      },
      names: "sets tls.mode DISABLE for",
      fix: "ISTIO_MUTUAL",
    },
    {
      policy: "istio-destination-rule-tls",
      change: "one subset disables TLS",
      type: DR,
      edit: (r) => {
        r.spec.subsets[0].trafficPolicy = { tls: { mode: "DISABLE" } };
      },
      names: "tls.mode DISABLE",
      fix: "ISTIO_MUTUAL",
    },
    {
      policy: "istio-gateway-tls",
      change: "a Gateway serves plain HTTP without redirecting",
      add: gateway([{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }]),
      names: 'Gateway "istio-system/public" server 0 (port 80): accepts plain HTTP',
      fix: "tls.httpsRedirect: true",
    },
    {
      policy: "istio-gateway-tls",
      change: "a Gateway serves HTTPS without a certificate",
      add: gateway([
        { port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"], tls: { httpsRedirect: true } },
        { port: { number: 443, name: "https", protocol: "HTTPS" }, hosts: ["*"], tls: { mode: "SIMPLE" } },
      ]),
      names: "server 1 (port 443): is HTTPS without a certificate",
      fix: "tls.credentialName",
    },
  ],
);
