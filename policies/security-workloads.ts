import type { ResourceValidationArgs, ReportViolation } from "@pulumi/policy";
import { type Container, isKind, podWorkload } from "./kubernetes";
import { podRule } from "./pod-rules";
import { asArray, asRecord, asStringRecord, get, type PlatformPolicy, violation } from "./support";

/**
 * Pod security: the Kubernetes Pod Security "restricted" profile (non-root, read-only root
 * filesystem, no capabilities, no privilege escalation, RuntimeDefault seccomp, no host
 * namespaces or paths), pinned images, and no static cloud credentials anywhere.
 */

type SecurityContext = NonNullable<Container["securityContext"]>;
const sc = (c: Container): SecurityContext => asRecord(c.securityContext) as SecurityContext;

export const containersRunAsNonRoot = podRule({
  area: "security",
  name: "containers-run-as-non-root",
  description: "Containers run as a non-root user (runAsNonRoot, and runAsUser not 0).",
  exceptable: true,
  check({ workload, report, exception }) {
    if (exception) return;
    const pod = asRecord(workload.pod.securityContext);
    for (const { container } of workload.containers) {
      const nonRoot = sc(container).runAsNonRoot ?? pod.runAsNonRoot;
      const user = sc(container).runAsUser ?? pod.runAsUser;
      if (nonRoot !== true || user === 0) {
        report(
          user === 0 ? "runs as root (runAsUser 0)" : "may run as root (runAsNonRoot is not true)",
          "set securityContext.runAsNonRoot: true and a non-zero runAsUser (the Workload builder does)",
          container,
        );
      }
    }
  },
});

export const containersReadOnlyRootFilesystem = podRule({
  area: "security",
  name: "containers-read-only-root-filesystem",
  description: "Containers have a read-only root filesystem; writable paths are emptyDir volumes.",
  check({ workload, report }) {
    for (const { container } of workload.containers) {
      if (sc(container).readOnlyRootFilesystem !== true)
        report(
          "root filesystem is writable",
          "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes",
          container,
        );
    }
  },
});

/** The one capability Pod Security "restricted" lets a container add. */
const ALLOWED_ADDED_CAPABILITIES = ["NET_BIND_SERVICE"];

export const containersDropAllCapabilities = podRule({
  area: "security",
  name: "containers-drop-all-capabilities",
  description: "Containers drop ALL Linux capabilities and add none (NET_BIND_SERVICE excepted).",
  check({ workload, report }) {
    for (const { container } of workload.containers) {
      const caps = asRecord(sc(container).capabilities);
      if (!asArray(caps.drop).some((c) => String(c).toUpperCase() === "ALL"))
        report("does not drop ALL capabilities", 'set securityContext.capabilities.drop: ["ALL"]', container);
      const added = asArray(caps.add)
        .map(String)
        .filter((c) => !ALLOWED_ADDED_CAPABILITIES.includes(c.toUpperCase()));
      if (added.length) report(`adds capabilities ${added.join(", ")}`, "remove securityContext.capabilities.add", container);
    }
  },
});

export const containersNoPrivilegeEscalation = podRule({
  area: "security",
  name: "containers-no-privilege-escalation",
  description: "Containers are not privileged and set allowPrivilegeEscalation: false.",
  check({ workload, report }) {
    for (const { container } of workload.containers) {
      if (sc(container).privileged === true) report("is privileged", "remove securityContext.privileged: true", container);
      if (sc(container).allowPrivilegeEscalation !== false)
        report("allows privilege escalation (the default)", "set securityContext.allowPrivilegeEscalation: false", container);
    }
  },
});

export const containersSeccompRuntimeDefault = podRule({
  area: "security",
  name: "containers-seccomp-runtime-default",
  description: "Containers run under the RuntimeDefault (or a Localhost) seccomp profile.",
  check({ workload, report }) {
    const podProfile = get(workload.pod.securityContext, "seccompProfile", "type");
    for (const { container } of workload.containers) {
      const profile = get(container.securityContext, "seccompProfile", "type") ?? podProfile;
      if (profile !== "RuntimeDefault" && profile !== "Localhost") {
        report(
          `seccomp profile is ${profile ?? "unset (Unconfined)"}`,
          'set securityContext.seccompProfile: { type: "RuntimeDefault" } on the pod or container',
          container,
        );
      }
    }
  },
});

/** Splits an image reference into its tag and digest (registry ports are not tags). */
export function imageTag(image: string): { tag?: string; digest?: string } {
  const [named, digest] = image.split("@") as [string, string | undefined];
  const lastSegment = named.slice(named.lastIndexOf("/") + 1);
  const colon = lastSegment.lastIndexOf(":");
  return { tag: colon >= 0 ? lastSegment.slice(colon + 1) : undefined, digest };
}

export const containersImagePinned = podRule({
  area: "security",
  name: "containers-image-pinned",
  description: "Container images are pinned by tag or digest; never :latest or untagged.",
  check({ workload, report }) {
    for (const { container } of workload.containers) {
      const image = typeof container.image === "string" ? container.image : "";
      const { tag, digest } = imageTag(image);
      if (digest) continue;
      if (!image) report("has no image", "set the image, pinned by tag or digest", container);
      else if (!tag)
        report(`image "${image}" has no tag (means :latest)`, `pin a version, e.g. "${image}:1.2.3" or "${image}@sha256:..."`, container);
      else if (tag === "latest") report(`image "${image}" uses :latest`, "pin a version tag or digest", container);
    }
  },
});

export const podsNoHostAccess = podRule({
  area: "security",
  name: "pods-no-host-access",
  description:
    "Pods do not share the node's network, PID or IPC namespace, mount host paths or bind host ports (allowlisted exceptions: the NVIDIA device plugin's socket directory).",
  exceptable: true,
  check({ workload, report, exception }) {
    const pod = workload.pod;
    for (const key of ["hostNetwork", "hostPID", "hostIPC"] as const) {
      if (pod[key] === true) report(`shares the node's ${key.slice(4)} namespace (${key}: true)`, `remove ${key}`);
    }
    for (const volume of asArray(pod.volumes)) {
      const path = get(volume, "hostPath", "path");
      if (typeof path !== "string") continue;
      if (exception?.hostPaths?.includes(path)) continue;
      report(
        `mounts host path ${path} (volume "${String(get(volume, "name"))}")`,
        "use an emptyDir, a ConfigMap or a PersistentVolumeClaim; a node daemon that truly needs it gets an allowlisted mlops.platform/policy-exception",
      );
    }
    for (const { container } of workload.containers) {
      for (const port of asArray(container.ports)) {
        // 0 (or unset) binds no host port: Pod Security's baseline allows exactly those.
        const hostPort = get(port, "hostPort");
        if (hostPort !== undefined && hostPort !== 0)
          report(`binds host port ${String(hostPort)}`, "remove hostPort and expose the port through a Service", container);
      }
    }
  },
});

/** Patterns of static cloud credentials: AWS access key ids, AWS secret key assignments, GCP service-account key JSON. */
const CREDENTIAL_PATTERNS: { pattern: RegExp; what: string }[] = [
  { pattern: /\b(AKIA|ASIA)[A-Z0-9]{16}\b/, what: "an AWS access key id" },
  { pattern: /aws_secret_access_key\s*[=:]/i, what: "an AWS secret access key" },
  { pattern: /"private_key"\s*:/, what: "a GCP service-account key (JSON with private_key)" },
];
/** Environment variables that hold static cloud keys when given a literal value. */
const KEY_VARIABLES = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
const FIX = "remove the key and grant access through workload identity (IRSA on EKS, Workload Identity on GKE) on the pod's ServiceAccount";

function credentialIn(text: string): string | undefined {
  return CREDENTIAL_PATTERNS.find((p) => p.pattern.test(text))?.what;
}

function decodeBase64(value: string): string {
  return Buffer.from(value, "base64").toString("utf8");
}

function checkCredentials(args: ResourceValidationArgs, report: ReportViolation): void {
  const props = args.props;
  const minted: Record<string, [string, string]> = {
    "aws:iam/accessKey:AccessKey": ["IAM access key", "mints a static AWS access key"],
    "gcp:serviceaccount/key:Key": ["service-account key", "mints a static GCP service-account key"],
  };
  const mints = minted[args.type];
  if (mints) {
    report(violation(`${mints[0]} "${args.name}"`, mints[1], FIX));
    return;
  }
  if (args.type === "pulumi:providers:aws" && (props.accessKey || props.secretKey)) {
    report(
      violation(
        `AWS provider "${args.name}"`,
        "is configured with a static access key",
        "let the provider use the ambient credentials (OIDC in CI, SSO locally)",
      ),
    );
    return;
  }
  if (args.type === "pulumi:providers:gcp" && props.credentials) {
    report(
      violation(
        `GCP provider "${args.name}"`,
        "is configured with a service-account key",
        "let the provider use Application Default Credentials (Workload Identity Federation in CI)",
      ),
    );
    return;
  }
  const configMap = isKind(args.type, "core", "ConfigMap");
  const secret = isKind(args.type, "core", "Secret");
  if (configMap || secret) {
    const name = `${configMap ? "ConfigMap" : "Secret"} "${String(get(props, "metadata", "namespace") ?? "default")}/${String(get(props, "metadata", "name") ?? args.name)}"`;
    const entries: [string, string][] = [
      ...Object.entries(asStringRecord(props.data)).map(([k, v]): [string, string] => [k, secret ? decodeBase64(v) : v]),
      ...Object.entries(asStringRecord(props.stringData)),
    ];
    for (const [key, value] of entries) {
      const what = credentialIn(value) ?? (KEY_VARIABLES.includes(key) && value ? `a value for ${key}` : undefined);
      if (what) report(violation(name, `key "${key}" holds ${what}`, FIX));
    }
    return;
  }
  const workload = podWorkload(args.type, props, args.name);
  if (!workload) args.notApplicable("no credentials can be written in this resource type");
  for (const { container } of workload.containers) {
    const where = `${workload.kind} "${workload.ref}" container "${container.name}"`;
    for (const env of asArray(container.env)) {
      const envName = String(get(env, "name"));
      const value = get(env, "value");
      if (envName === "GOOGLE_APPLICATION_CREDENTIALS")
        report(violation(where, "points GOOGLE_APPLICATION_CREDENTIALS at a service-account key file", FIX));
      if (typeof value !== "string" || value === "") continue;
      const what = credentialIn(value) ?? (KEY_VARIABLES.includes(envName) ? `a literal ${envName}` : undefined);
      if (what) report(violation(where, `env ${envName} holds ${what}`, FIX));
    }
    // Kubernetes takes command and args as strings only.
    for (const arg of [...asArray(container.command), ...asArray(container.args)]) {
      const what = credentialIn(String(arg));
      if (what) report(violation(where, `its command line holds ${what}`, FIX));
    }
  }
}

export const noStaticCloudCredentials: PlatformPolicy = {
  area: "security",
  name: "no-static-cloud-credentials",
  description:
    "No static cloud credentials: no AWS access keys or GCP service-account keys in env vars, ConfigMaps, Secrets, provider config or minted as resources.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: checkCredentials,
};

export const workloadPolicies: PlatformPolicy[] = [
  containersRunAsNonRoot,
  containersReadOnlyRootFilesystem,
  containersDropAllCapabilities,
  containersNoPrivilegeEscalation,
  containersSeccompRuntimeDefault,
  containersImagePinned,
  podsNoHostAccess,
  noStaticCloudCredentials,
];
