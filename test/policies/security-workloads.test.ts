import type { Props } from "./fixtures/resource";
import { describe, expect, it } from "vitest";
import { imageTag } from "../../policies/security-workloads";
import { describeRule, edit, run } from "./fixtures/cases";
import { validPlan } from "./fixtures/stacks";

const FEATURES = 'Deployment "mlops/features" container "features"';
const container = (r: Props) => r.spec.template.spec.containers[0];
const pod = (r: Props) => r.spec.template.spec;

describeRule(
  "containers-run-as-non-root",
  ["aws-dev", "local"],
  [
    {
      stack: "local",
      change: "a container runs as root",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.runAsUser = 0;
        }),
      names: FEATURES,
      fix: "runAsNonRoot: true",
    },
    {
      stack: "aws-dev",
      change: "runAsNonRoot is not set anywhere",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete container(r).securityContext.runAsNonRoot;
          delete pod(r).securityContext.runAsNonRoot;
        }),
      names: FEATURES,
      fix: "runAsNonRoot: true",
    },
    {
      stack: "aws-dev",
      change: "a root daemon claims an exception that is not allowlisted",
      edit: (p) =>
        edit(p, "devicePlugin", (r) => {
          r.metadata.labels["mlops.platform/policy-exception"] = "my-daemon";
          r.spec.template.metadata.labels["mlops.platform/policy-exception"] = "my-daemon";
        }),
      names: "is not in the allowlist",
      fix: "runAsNonRoot",
    },
  ],
);

describeRule(
  "containers-read-only-root-filesystem",
  ["gcp-dev"],
  [
    {
      stack: "gcp-dev",
      change: "the root filesystem is writable",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.readOnlyRootFilesystem = false;
        }),
      names: FEATURES,
      fix: "readOnlyRootFilesystem: true",
    },
  ],
);

describeRule(
  "containers-drop-all-capabilities",
  ["gcp-prod"],
  [
    {
      stack: "gcp-prod",
      change: "capabilities are kept",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.capabilities.drop = [];
        }),
      names: FEATURES,
      fix: '["ALL"]',
    },
    {
      stack: "gcp-prod",
      change: "SYS_ADMIN is added",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.capabilities.add = ["SYS_ADMIN"];
        }),
      names: FEATURES,
      fix: "capabilities.add",
    },
  ],
);

describeRule(
  "containers-no-privilege-escalation",
  ["aws-prod"],
  [
    {
      stack: "aws-prod",
      change: "privilege escalation is allowed",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.allowPrivilegeEscalation = true;
        }),
      names: FEATURES,
      fix: "allowPrivilegeEscalation: false",
    },
    {
      stack: "aws-prod",
      change: "the container is privileged",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).securityContext.privileged = true;
        }),
      names: FEATURES,
      fix: "privileged",
    },
  ],
);

describeRule(
  "containers-seccomp-runtime-default",
  ["local"],
  [
    {
      stack: "local",
      change: "no seccomp profile is set",
      edit: (p) =>
        edit(p, "features", (r) => {
          delete container(r).securityContext.seccompProfile;
          delete pod(r).securityContext.seccompProfile;
        }),
      names: FEATURES,
      fix: "RuntimeDefault",
    },
  ],
);

describeRule(
  "containers-image-pinned",
  ["aws-dev", "gcp-prod"],
  [
    {
      stack: "aws-dev",
      change: "the image is :latest",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).image = "ghcr.io/mlops-platform/services:latest";
        }),
      names: FEATURES,
      fix: "pin a version",
    },
    {
      stack: "gcp-prod",
      change: "the image has no tag",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).image = "registry.local:5000/services";
        }),
      names: FEATURES,
      fix: "registry.local:5000/services:1.2.3",
    },
  ],
);

describeRule(
  "pods-no-host-access",
  ["aws-dev", "gcp-dev", "local"],
  [
    {
      stack: "local",
      change: "a pod uses the host network",
      edit: (p) =>
        edit(p, "features", (r) => {
          pod(r).hostNetwork = true;
        }),
      names: 'Deployment "mlops/features"',
      fix: "remove hostNetwork",
    },
    {
      stack: "aws-dev",
      change: "the device plugin mounts another host path",
      edit: (p) =>
        edit(p, "devicePlugin", (r) => {
          pod(r).volumes[0].hostPath.path = "/";
        }),
      names: 'DaemonSet "gpu-system/nvidia-device-plugin"',
      fix: "policy-exception",
    },
    {
      stack: "gcp-dev",
      change: "the device plugin's exception has no reason",
      edit: (p) =>
        edit(p, "devicePlugin", (r) => {
          r.metadata.annotations = {};
        }),
      names: "has no mlops.platform/policy-exception-reason annotation",
      fix: "emptyDir",
    },
    {
      stack: "aws-dev",
      change: "the exception is used outside gpu-system",
      edit: (p) =>
        edit(p, "devicePlugin", (r) => {
          r.metadata.namespace = "models";
        }),
      names: "applies only in namespace(s) gpu-system",
      fix: "emptyDir",
    },
  ],
);

describeRule(
  "no-static-cloud-credentials",
  ["aws-dev", "gcp-dev", "local"],
  [
    {
      stack: "aws-dev",
      change: "an env var holds an AWS key id",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).env.push({ name: "AWS_ACCESS_KEY_ID", value: "AKIAIOSFODNN7EXAMPLE" });
        }),
      names: FEATURES,
      fix: "IRSA",
    },
    {
      stack: "aws-dev",
      change: "a ConfigMap holds an AWS credentials file",
      edit: (p) =>
        edit(p, "runtimeConfig", (r) => {
          r.data.credentials = "[default]\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        }),
      names: 'ConfigMap "mlops/runtime-config"',
      fix: "workload identity",
    },
    {
      stack: "gcp-dev",
      change: "a Secret holds a service-account key (base64 data)",
      edit: (p) =>
        edit(p, "storeSecret", (r) => {
          r.data = {
            "key.json": Buffer.from('{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----"}').toString("base64"),
          };
        }),
      names: 'Secret "mlops/online-store"',
      fix: "Workload Identity on GKE",
    },
    {
      stack: "gcp-dev",
      change: "a pod points at a key file",
      edit: (p) =>
        edit(p, "features", (r) => {
          container(r).env.push({ name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/keys/sa.json" });
        }),
      names: FEATURES,
      fix: "workload identity",
    },
    {
      stack: "aws-dev",
      change: "the stack mints an IAM access key",
      edit: (p) => {
        p.key = {
          ...p.kms!,
          type: "aws:iam/accessKey:AccessKey",
          name: "ci-user-key",
          urn: "urn:pulumi:test::mlops-platform::aws:iam/accessKey:AccessKey::ci-user-key",
          inputs: { user: "ci" },
        };
      },
      names: 'IAM access key "ci-user-key"',
      fix: "IRSA",
    },
  ],
);

describe("image references", () => {
  it("tell a registry port from a tag", () => {
    expect(imageTag("registry.local:5000/services")).toEqual({ tag: undefined, digest: undefined });
    expect(imageTag("registry.local:5000/services:0.1.0")).toEqual({ tag: "0.1.0", digest: undefined });
    expect(imageTag("vllm/vllm-openai@sha256:abc").digest).toBe("sha256:abc");
  });
});

describe("the NVIDIA device plugin's exception", () => {
  it("waives root and its socket host path, and nothing else", () => {
    const plan = validPlan("aws-dev");
    for (const name of ["containers-run-as-non-root", "pods-no-host-access"]) expect(run(name, "aws-dev", plan).violations).toEqual([]);
    edit(plan, "devicePlugin", (r) => {
      pod(r).hostPID = true;
      container(r).securityContext.readOnlyRootFilesystem = false;
    });
    expect(run("pods-no-host-access", "aws-dev", plan).violations.map((v) => v.message)).toEqual([
      expect.stringContaining("hostPID: true"),
    ]);
    expect(run("containers-read-only-root-filesystem", "aws-dev", plan).violations).toHaveLength(1);
  });
});
