import { type Break, edit, type Props, remove } from "./coverage";
import { type CoverageRow, container, k8sNamed, podSpec } from "./coverage-rows";

/**
 * Kubernetes rows of policies/COVERAGE.md, proven on broken copies of aws-prod's manifests (the
 * tracking server's Deployment, a serving Deployment, a CronJob, the GPU DaemonSets), judged by
 * Checkov, kube-score and trivy's KSV checks. Polaris is not run (the Go module proxy refuses it:
 * 403 Forbidden), so its ids are listed, never confirmed; trivy is the second scanner in its place.
 */

const S = "aws-prod";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const mlflow = (change: (workload: Props) => void): Break => edit(DEPLOYMENT, change, k8sNamed("mlflow"));
const mlflowContainer = (change: (c: Props) => void): Break => mlflow((d) => change(container(d)));
/** Sets a field of the container's securityContext (which overrides the pod's). */
const securityContext = (field: string, value: unknown): Break =>
  mlflowContainer((c) => {
    c.securityContext[field] = value;
  });

export const kubernetesRows: CoverageRow[] = [
  {
    id: "k8s-limits",
    section: "kubernetes",
    rule: "CKV_K8S_11, _13 / kube-score container-resources / Polaris cpuLimitsMissing, memoryLimitsMissing",
    checks: "CPU and memory limits",
    policies: ["containers-have-resources"],
    scanners: ["checkov CKV_K8S_11", "checkov CKV_K8S_13", "kube-score container-resources", "trivy AVD-KSV-0011", "trivy AVD-KSV-0018"],
    breakage: {
      stack: S,
      what: "tracking server: no limits",
      apply: mlflowContainer((c) => {
        delete c.resources.limits;
      }),
    },
    notes: "ours: init containers too",
  },
  {
    id: "k8s-requests",
    section: "kubernetes",
    rule: "CKV_K8S_10, _12 / kube-score container-resources / Polaris cpuRequestsMissing, memoryRequestsMissing",
    checks: "CPU and memory requests",
    policies: ["containers-have-resources"],
    scanners: ["checkov CKV_K8S_10", "checkov CKV_K8S_12", "kube-score container-resources", "trivy AVD-KSV-0015", "trivy AVD-KSV-0016"],
    breakage: {
      stack: S,
      what: "tracking server: no requests",
      apply: mlflowContainer((c) => {
        delete c.resources.requests;
      }),
    },
    notes:
      "Checkov reports CKV_K8S_10/12 as unknown, not failed, when `resources` has limits and no `requests` key (Kubernetes then copies the limits)",
  },
  {
    id: "k8s-probes",
    section: "kubernetes",
    rule: "CKV_K8S_8, _9 / kube-score pod-probes / Polaris readinessProbeMissing, livenessProbeMissing",
    checks: "readiness and liveness probes",
    policies: ["containers-have-probes"],
    scanners: ["checkov CKV_K8S_8", "checkov CKV_K8S_9", "kube-score pod-probes"],
    breakage: {
      stack: S,
      what: "tracking server: no probes",
      apply: mlflowContainer((c) => {
        delete c.readinessProbe;
        delete c.livenessProbe;
        delete c.startupProbe;
      }),
    },
    notes: "ours: Deployments, StatefulSets, DaemonSets (not Jobs, as kube-score)",
  },
  {
    id: "k8s-image-latest",
    section: "kubernetes",
    rule: "CKV_K8S_14 / kube-score container-image-tag / Polaris tagNotSpecified",
    checks: "no :latest, pinned",
    policies: ["containers-image-pinned"],
    scanners: ["checkov CKV_K8S_14", "kube-score container-image-tag", "trivy AVD-KSV-0013"],
    breakage: {
      stack: S,
      what: "tracking server: image :latest",
      apply: mlflowContainer((c) => {
        c.image = "ghcr.io/mlops-platform/tracking:latest";
      }),
    },
    notes: "ours: tag or digest; registry ports are not tags",
  },
  {
    id: "k8s-pull-policy",
    section: "kubernetes",
    rule: "CKV_K8S_15 / kube-score container-image-pull-policy / Polaris pullPolicyNotAlways",
    checks: "pull policy Always",
    policies: [],
    scanners: ["checkov CKV_K8S_15", "kube-score container-image-pull-policy"],
    breakage: {
      stack: S,
      what: "tracking server: imagePullPolicy IfNotPresent",
      apply: mlflowContainer((c) => {
        c.imagePullPolicy = "IfNotPresent";
      }),
    },
    notes: "fixed in the platform (components/k8s/workload.ts); only `npm run scan` keeps it",
  },
  {
    id: "k8s-privileged",
    section: "kubernetes",
    rule: "CKV_K8S_16 / kube-score container-security-context-privileged / Polaris runAsPrivileged",
    checks: "privileged",
    policies: ["containers-no-privilege-escalation"],
    scanners: ["checkov CKV_K8S_16", "kube-score container-security-context-privileged", "trivy AVD-KSV-0017"],
    breakage: { stack: S, what: "tracking server: privileged true", apply: securityContext("privileged", true) },
  },
  {
    id: "k8s-privilege-escalation",
    section: "kubernetes",
    rule: "CKV_K8S_20 / Polaris privilegeEscalationAllowed",
    checks: "allowPrivilegeEscalation",
    policies: ["containers-no-privilege-escalation"],
    scanners: ["checkov CKV_K8S_20", "trivy AVD-KSV-0001"],
    breakage: {
      stack: S,
      what: "tracking server: allowPrivilegeEscalation true",
      apply: securityContext("allowPrivilegeEscalation", true),
    },
    notes: "ours: must be explicitly false",
  },
  {
    id: "k8s-read-only-root",
    section: "kubernetes",
    rule: "CKV_K8S_22 / kube-score container-security-context-readonlyrootfilesystem / Polaris notReadOnlyRootFilesystem",
    checks: "read-only root filesystem",
    policies: ["containers-read-only-root-filesystem"],
    scanners: ["checkov CKV_K8S_22", "kube-score container-security-context-readonlyrootfilesystem", "trivy AVD-KSV-0014"],
    breakage: { stack: S, what: "tracking server: readOnlyRootFilesystem false", apply: securityContext("readOnlyRootFilesystem", false) },
  },
  {
    id: "k8s-root",
    section: "kubernetes",
    rule: "CKV_K8S_23, CKV_K8S_40 / kube-score container-security-context-user-group-id / Polaris runAsRootAllowed",
    checks: "non-root",
    policies: ["containers-run-as-non-root"],
    scanners: [
      "checkov CKV_K8S_23",
      "checkov CKV_K8S_40",
      "kube-score container-security-context-user-group-id",
      "trivy AVD-KSV-0012",
      "trivy AVD-KSV-0105",
    ],
    breakage: {
      stack: S,
      what: "tracking server: runAsUser 0, runAsNonRoot false (pod and container)",
      apply: mlflow((d) => {
        for (const ctx of [podSpec(d).securityContext, container(d).securityContext]) {
          ctx.runAsUser = 0;
          ctx.runAsNonRoot = false;
        }
      }),
    },
  },
  {
    id: "k8s-low-uid",
    section: "kubernetes",
    rule: "CKV_K8S_40 / kube-score container-security-context-user-group-id",
    checks: "UID and GID >= 10000",
    policies: ["containers-run-as-non-root"],
    scanners: ["checkov CKV_K8S_40", "kube-score container-security-context-user-group-id", "trivy AVD-KSV-0020", "trivy AVD-KSV-0021"],
    breakage: {
      stack: S,
      what: "tracking server: runAsUser 1000, runAsGroup 1000 (non-root)",
      apply: mlflow((d) => {
        for (const ctx of [podSpec(d).securityContext, container(d).securityContext]) {
          ctx.runAsUser = 1000;
          ctx.runAsGroup = 1000;
        }
      }),
    },
    notes: "ours checks runAsNonRoot and UID ≠ 0 only; the Workload builder uses UID/GID 10001",
  },
  {
    id: "k8s-capability-sys-admin",
    section: "kubernetes",
    rule: "CKV_K8S_25, CKV_K8S_39 / Polaris dangerousCapabilities",
    checks: "no added capabilities (SYS_ADMIN)",
    policies: ["containers-drop-all-capabilities"],
    scanners: ["checkov CKV_K8S_25", "checkov CKV_K8S_39", "trivy AVD-KSV-0005", "trivy AVD-KSV-0022"],
    breakage: {
      stack: S,
      what: "tracking server: adds SYS_ADMIN",
      apply: mlflowContainer((c) => {
        c.securityContext.capabilities.add = ["SYS_ADMIN"];
      }),
    },
  },
  {
    id: "k8s-capability-net-bind",
    section: "kubernetes",
    rule: "CKV_K8S_25 / Polaris insecureCapabilities",
    checks: "no added capabilities (NET_BIND_SERVICE)",
    policies: ["containers-drop-all-capabilities"],
    scanners: ["checkov CKV_K8S_25", "trivy AVD-KSV-0022"],
    breakage: {
      stack: S,
      what: "tracking server: adds NET_BIND_SERVICE",
      apply: mlflowContainer((c) => {
        c.securityContext.capabilities.add = ["NET_BIND_SERVICE"];
      }),
    },
    notes: "CKV_K8S_25 rejects any added capability; ours allows NET_BIND_SERVICE",
  },
  {
    id: "k8s-capability-drop",
    section: "kubernetes",
    rule: "CKV_K8S_28, CKV_K8S_37 / kube-score (none)",
    checks: "drop ALL (NET_RAW)",
    policies: ["containers-drop-all-capabilities"],
    scanners: ["checkov CKV_K8S_28", "checkov CKV_K8S_37", "trivy AVD-KSV-0003"],
    breakage: {
      stack: S,
      what: "tracking server: drops nothing",
      apply: mlflowContainer((c) => {
        c.securityContext.capabilities.drop = [];
      }),
    },
  },
  {
    id: "k8s-seccomp-unset",
    section: "kubernetes",
    rule: "CKV_K8S_31 / kube-score container-seccomp-profile (optional) / Polaris linuxHardening",
    checks: "seccomp profile set",
    policies: ["containers-seccomp-runtime-default"],
    scanners: ["checkov CKV_K8S_31", "trivy AVD-KSV-0030"],
    breakage: {
      stack: S,
      what: "tracking server: no seccomp profile (pod and container)",
      apply: mlflow((d) => {
        delete podSpec(d).securityContext.seccompProfile;
        delete container(d).securityContext.seccompProfile;
      }),
    },
    notes: "kube-score's seccomp check is optional (off by default) and not enabled here",
  },
  {
    id: "k8s-seccomp-localhost",
    section: "kubernetes",
    rule: "CKV_K8S_31",
    checks: "seccomp RuntimeDefault (a Localhost profile)",
    policies: ["containers-seccomp-runtime-default"],
    scanners: ["checkov CKV_K8S_31"],
    breakage: {
      stack: S,
      what: "tracking server: a Localhost seccomp profile",
      apply: mlflow((d) => {
        const profile = { type: "Localhost", localhostProfile: "profiles/mlflow.json" };
        podSpec(d).securityContext.seccompProfile = profile;
        container(d).securityContext.seccompProfile = profile;
      }),
    },
    notes: "CKV_K8S_31 accepts only RuntimeDefault; ours accepts Localhost too",
  },
  {
    id: "k8s-host-namespaces",
    section: "kubernetes",
    rule: "CKV_K8S_17, _18, _19 / Polaris hostPIDSet, hostIPCSet, hostNetworkSet",
    checks: "host namespaces",
    policies: ["pods-no-host-access"],
    scanners: [
      "checkov CKV_K8S_17",
      "checkov CKV_K8S_18",
      "checkov CKV_K8S_19",
      "trivy AVD-KSV-0008",
      "trivy AVD-KSV-0009",
      "trivy AVD-KSV-0010",
    ],
    breakage: {
      stack: S,
      what: "tracking server: hostPID, hostIPC, hostNetwork",
      apply: mlflow((d) => {
        Object.assign(podSpec(d), { hostPID: true, hostIPC: true, hostNetwork: true });
      }),
    },
  },
  {
    id: "k8s-host-port",
    section: "kubernetes",
    rule: "CKV_K8S_26 / Polaris hostPortSet",
    checks: "host ports",
    policies: ["pods-no-host-access"],
    scanners: ["checkov CKV_K8S_26", "trivy AVD-KSV-0024"],
    breakage: {
      stack: S,
      what: "tracking server: hostPort 5000",
      apply: mlflowContainer((c) => {
        c.ports[0].hostPort = 5000;
      }),
    },
  },
  {
    id: "k8s-host-path",
    section: "kubernetes",
    rule: "CKV_K8S_27 / Polaris hostPath checks",
    checks: "hostPath volumes (the docker socket)",
    policies: ["pods-no-host-access"],
    scanners: ["checkov CKV_K8S_27", "trivy AVD-KSV-0006", "trivy AVD-KSV-0023"],
    breakage: {
      stack: S,
      what: "tracking server: mounts /var/run/docker.sock",
      apply: mlflow((d) => {
        podSpec(d).volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
        container(d).volumeMounts.push({ name: "docker", mountPath: "/var/run/docker.sock" });
      }),
    },
    notes: "ours allowlists the NVIDIA device plugin's `/var/lib/kubelet/device-plugins`",
  },
  {
    id: "k8s-service-account-token",
    section: "kubernetes",
    rule: "CKV_K8S_38 / Polaris automountServiceAccountToken",
    checks: "token mounted only when needed",
    policies: [],
    scanners: ["checkov CKV_K8S_38", "trivy AVD-KSV-0036"],
    breakage: {
      stack: S,
      what: "tracking server: automountServiceAccountToken true",
      apply: mlflow((d) => {
        podSpec(d).automountServiceAccountToken = true;
      }),
    },
    notes: "fixed in the platform (only the drift CronJobs mount it, waived); only `npm run scan` keeps it",
  },
  {
    id: "k8s-ephemeral-storage",
    section: "kubernetes",
    rule: "kube-score container-ephemeral-storage-request-and-limit",
    checks: "ephemeral storage",
    policies: [],
    scanners: ["kube-score container-ephemeral-storage-request-and-limit"],
    breakage: {
      stack: S,
      what: "tracking server: no ephemeral-storage request or limit",
      apply: mlflowContainer((c) => {
        delete c.resources.requests["ephemeral-storage"];
        delete c.resources.limits["ephemeral-storage"];
      }),
    },
    notes: "fixed in the platform (`withEmptyDirStorage`); only `npm run scan` keeps it",
  },
  {
    id: "k8s-pdb",
    section: "kubernetes",
    rule: "kube-score deployment-has-poddisruptionbudget / Polaris missingPodDisruptionBudget",
    checks: "PDB",
    policies: ["workloads-have-pdb"],
    scanners: ["kube-score deployment-has-poddisruptionbudget"],
    breakage: {
      stack: S,
      what: "fraud-scorer-v1: its PodDisruptionBudget removed",
      apply: remove("kubernetes:policy/v1:PodDisruptionBudget", k8sNamed("fraud-scorer-v1")),
    },
    notes: "ours: replicated workloads, and every serving Deployment in prod",
  },
  {
    id: "k8s-network-policy",
    section: "kubernetes",
    rule: "kube-score pod-networkpolicy / CKV2_K8S_6 / Polaris missingNetworkPolicy",
    checks: "every pod selected by a NetworkPolicy",
    policies: [],
    scanners: ["kube-score pod-networkpolicy"],
    breakage: {
      stack: S,
      what: "models namespace: its NetworkPolicies removed",
      apply: (resources) =>
        resources.filter(
          (r) =>
            !(
              r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
              (r.inputs.metadata as { namespace?: string })?.namespace === "models"
            ),
        ),
    },
    notes: "fixed in the platform (components/k8s/network-policies.ts); `istio-default-deny` is the L7 layer above it",
  },
  {
    id: "k8s-image-digest",
    section: "kubernetes",
    rule: "CKV_K8S_43",
    checks: "image by `@sha256` digest",
    policies: [],
    scanners: [],
    status: "not enforced (waived)",
    notes: "our images are pinned by tag until the release rewrites them (policies/scanner-waivers.yaml)",
  },
  {
    id: "k8s-secret-env",
    section: "kubernetes",
    rule: "CKV_K8S_35",
    checks: "no Secret in env (any `secretKeyRef`/`secretRef`)",
    policies: [],
    scanners: [],
    status: "not enforced (waived)",
    notes: "the services read store passwords from env (the waiver gives the reason); `no-static-cloud-credentials` checks cloud keys only",
  },
  {
    id: "k8s-polaris-sensitive",
    section: "kubernetes",
    rule: "Polaris sensitiveContainerEnvVar, sensitiveConfigmapContent",
    checks: "env/ConfigMap keys named password, token, secret, bearer; PEM keys",
    policies: [],
    scanners: [],
    status: "not run (Polaris not installable)",
    notes: "`no-static-cloud-credentials` matches cloud key patterns, not these names",
  },
  {
    id: "k8s-hpa-target",
    section: "kubernetes",
    rule: "kube-score horizontalpodautoscaler-has-target",
    checks: "HPA targets an existing workload",
    policies: [],
    scanners: [],
    status: "not enforced by a policy",
    notes: "`serving-autoscaled` checks the other direction (every serving Deployment has an HPA or ScaledObject)",
  },
  {
    id: "k8s-replicas",
    section: "kubernetes",
    rule: "Polaris deploymentMissingReplicas, hpaMinAvailability",
    checks: "replicas ≥ 2",
    policies: ["serving-replicated-in-prod"],
    scanners: [],
    status: "not run (Polaris not installable)",
    notes: "ours: prod serving, HPA/ScaledObject minimum when present",
  },
  {
    id: "k8s-spread",
    section: "kubernetes",
    rule: "kube-score deployment-has-host-podantiaffinity / Polaris topologySpreadConstraint",
    checks: "spread across nodes",
    policies: [],
    scanners: [],
    status: "not enforced",
    notes: "the Workload builder always sets zone and host spread",
  },
  {
    id: "k8s-istio-mtls",
    section: "kubernetes",
    rule: "Istio (no scanner rule)",
    checks: "mesh mTLS STRICT",
    policies: ["istio-strict-mtls"],
    scanners: [],
    breakage: {
      stack: S,
      what: "the mesh's PeerAuthentication: PERMISSIVE",
      apply: edit("kubernetes:security.istio.io/v1:PeerAuthentication", (p) => {
        p.spec.mtls = { mode: "PERMISSIVE" };
      }),
    },
  },
];
