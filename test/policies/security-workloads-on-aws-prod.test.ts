import { describe, expect, it } from "vitest";
import type { PlanResource } from "../../components/plan-resource";
import type { ResourceValidation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import { imageTag, podsNoHostAccess } from "../../policies/security-workloads";
import { type Found, realPlan, withBreakage } from "./fixtures/real";
import { type Props, resource, violationsOf } from "./fixtures/resource";

/**
 * The pod-security and credential policies (policies/security-workloads.ts) over aws-prod's real
 * plan, broken one way at a time, each case asserting the whole list of violations of one policy
 * (message and fix). aws-prod's pods: the Deployment mlops/features sets the whole restricted
 * profile on its container and runAsNonRoot, runAsUser 10001 and RuntimeDefault seccomp on its pod
 * too; the DaemonSets gpu-system/nvidia-device-plugin (root, the allowlisted host path
 * /var/lib/kubelet/device-plugins) and gpu-system/dcgm-exporter (root) hold allowlisted exceptions.
 * Kinds the plan has no example of (bare Pods, init containers) are hand-made with `resource()`.
 */

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const FEATURES = 'Deployment "mlops/features" container "features"';

const resources = realPlan("aws-prod");

const run = (name: string, all: PlanResource[]): Found => violationsOf(all, "aws-prod", name);

/** The plan with the first resource of `type` named `name` (metadata.name) changed. */
const broken = (type: string, name: string, change: (r: Props) => void) =>
  withBreakage(resources, { type, match: (r) => (r.inputs as Props).metadata?.name === name, change });
const pod = (r: Props) => r.spec.template.spec;
const container = (r: Props) => pod(r).containers[0];
/** The plan with the features Deployment's pod (and container) changed. */
const features = (change: (pod: Props, container: Props) => void) => broken(DEPLOYMENT, "features", (r) => change(pod(r), container(r)));
const daemon = (name: string, change: (r: Props) => void) => broken(DAEMONSET, name, change);

/** A bare Pod in models, its one container named "app" (the plan creates no Pods itself). */
function barePod(spec: Props): PlanResource {
  return resource("kubernetes:core/v1:Pod", "debug", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "debug", namespace: "models" },
    spec,
  });
}
/** A container that passes every restricted rule; `change` breaks it. */
const restricted = (name: string, change: (c: Props) => void = () => {}): Props => {
  const c: Props = {
    name,
    image: "ghcr.io/acme/tool:1.0.0",
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    },
  };
  change(c);
  return c;
};

describe("containers-run-as-non-root", () => {
  const FIX = "set securityContext.runAsNonRoot: true and a non-zero runAsUser (the Workload builder does)";
  const MAY = { message: `${FEATURES}: may run as root (runAsNonRoot is not true).`, fix: FIX };
  const ROOT = { message: `${FEATURES}: runs as root (runAsUser 0).`, fix: FIX };
  const nonRoot = (all: PlanResource[]) => run("containers-run-as-non-root", all);

  it("passes the real output, the GPU daemons' allowlisted root included", () => {
    expect(nonRoot(resources)).toEqual([]);
  });

  it("a container that sets runAsNonRoot false is not saved by its pod's true", () => {
    expect(
      nonRoot(
        features((_, c) => {
          c.securityContext.runAsNonRoot = false;
        }),
      ),
    ).toEqual([MAY]);
  });

  it("a container that leaves runAsNonRoot unset inherits its pod's true", () => {
    expect(
      nonRoot(
        features((_, c) => {
          delete c.securityContext.runAsNonRoot;
        }),
      ),
    ).toEqual([]);
  });

  it("runAsNonRoot unset on both the container and the pod", () => {
    expect(
      nonRoot(
        features((p, c) => {
          delete c.securityContext.runAsNonRoot;
          delete p.securityContext.runAsNonRoot;
        }),
      ),
    ).toEqual([MAY]);
  });

  it('runAsNonRoot "true" as a string is not true', () => {
    expect(
      nonRoot(
        features((_, c) => {
          c.securityContext.runAsNonRoot = "true";
        }),
      ),
    ).toEqual([MAY]);
  });

  it("runAsUser 0 on the container, even with runAsNonRoot true", () => {
    expect(
      nonRoot(
        features((_, c) => {
          c.securityContext.runAsUser = 0;
        }),
      ),
    ).toEqual([ROOT]);
  });

  it("runAsUser 0 on the pod reaches a container that sets no user", () => {
    expect(
      nonRoot(
        features((p, c) => {
          delete c.securityContext.runAsUser;
          p.securityContext.runAsUser = 0;
        }),
      ),
    ).toEqual([ROOT]);
  });

  it("a container's own user wins over the pod's 0", () => {
    expect(
      nonRoot(
        features((p) => {
          p.securityContext.runAsUser = 0;
        }),
      ),
    ).toEqual([]);
  });

  it("an init container is checked like the others, each container on its own", () => {
    const found = nonRoot([
      ...resources,
      barePod({
        initContainers: [
          restricted("setup", (c) => {
            c.securityContext.runAsUser = 0;
          }),
        ],
        containers: [
          restricted("app"),
          restricted("sidecar", (c) => {
            delete c.securityContext.runAsNonRoot;
          }),
        ],
      }),
    ]);
    expect(found).toEqual([
      { message: 'Pod "models/debug" container "setup": runs as root (runAsUser 0).', fix: FIX },
      { message: 'Pod "models/debug" container "sidecar": may run as root (runAsNonRoot is not true).', fix: FIX },
    ]);
  });

  it("the DCGM exporter's root is waived only in gpu-system, and the message says why it is not", () => {
    const found = nonRoot(
      daemon("dcgm-exporter", (r) => {
        r.metadata.namespace = "models";
      }),
    );
    expect(found).toEqual([
      {
        message:
          'DaemonSet "models/dcgm-exporter" container "dcgm-exporter": runs as root (runAsUser 0) (exception "dcgm-exporter" applies only in namespace(s) gpu-system).',
        fix: FIX,
      },
    ]);
  });
});

describe("containers-read-only-root-filesystem", () => {
  const WRITABLE = {
    message: `${FEATURES}: root filesystem is writable.`,
    fix: "set securityContext.readOnlyRootFilesystem: true and mount an emptyDir where the process writes",
  };
  const readOnly = (all: PlanResource[]) => run("containers-read-only-root-filesystem", all);

  it("passes the real output", () => {
    expect(readOnly(resources)).toEqual([]);
  });

  it('false, unset and the string "true" are all writable', () => {
    expect(
      readOnly(
        features((_, c) => {
          c.securityContext.readOnlyRootFilesystem = false;
        }),
      ),
    ).toEqual([WRITABLE]);
    expect(
      readOnly(
        features((_, c) => {
          delete c.securityContext.readOnlyRootFilesystem;
        }),
      ),
    ).toEqual([WRITABLE]);
    expect(
      readOnly(
        features((_, c) => {
          c.securityContext.readOnlyRootFilesystem = "true";
        }),
      ),
    ).toEqual([WRITABLE]);
  });

  it("a container with no securityContext at all", () => {
    expect(
      readOnly(
        features((_, c) => {
          delete c.securityContext;
        }),
      ),
    ).toEqual([WRITABLE]);
  });
});

describe("containers-drop-all-capabilities", () => {
  const NO_DROP = { message: `${FEATURES}: does not drop ALL capabilities.`, fix: 'set securityContext.capabilities.drop: ["ALL"]' };
  const adds = (caps: string) => ({ message: `${FEATURES}: adds capabilities ${caps}.`, fix: "remove securityContext.capabilities.add" });
  const caps = (all: PlanResource[]) => run("containers-drop-all-capabilities", all);
  const capabilities = (value: Props) =>
    features((_, c) => {
      c.securityContext.capabilities = value;
    });

  it("passes the real output", () => {
    expect(caps(resources)).toEqual([]);
  });

  it("dropping some capabilities but not ALL", () => {
    expect(caps(capabilities({ drop: ["NET_RAW", "SYS_ADMIN"] }))).toEqual([NO_DROP]);
  });

  it("no capabilities field drops nothing", () => {
    expect(
      caps(
        features((_, c) => {
          delete c.securityContext.capabilities;
        }),
      ),
    ).toEqual([NO_DROP]);
  });

  it('ALL among others, and in lower case ("all"), drops ALL', () => {
    expect(caps(capabilities({ drop: ["NET_RAW", "ALL"] }))).toEqual([]);
    expect(caps(capabilities({ drop: ["all"] }))).toEqual([]);
  });

  it("NET_BIND_SERVICE may be added back, in any case", () => {
    expect(caps(capabilities({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] }))).toEqual([]);
    expect(caps(capabilities({ drop: ["ALL"], add: ["net_bind_service"] }))).toEqual([]);
  });

  it("every other added capability is named, in order, NET_BIND_SERVICE left out", () => {
    expect(caps(capabilities({ drop: ["ALL"], add: ["SYS_ADMIN", "NET_BIND_SERVICE", "net_raw"] }))).toEqual([adds("SYS_ADMIN, net_raw")]);
  });

  it("dropping nothing and adding one: both problems", () => {
    expect(caps(capabilities({ add: ["SYS_PTRACE"] }))).toEqual([NO_DROP, adds("SYS_PTRACE")]);
  });
});

describe("containers-no-privilege-escalation", () => {
  const PRIVILEGED = { message: `${FEATURES}: is privileged.`, fix: "remove securityContext.privileged: true" };
  const ESCALATES = {
    message: `${FEATURES}: allows privilege escalation (the default).`,
    fix: "set securityContext.allowPrivilegeEscalation: false",
  };
  const escalation = (all: PlanResource[]) => run("containers-no-privilege-escalation", all);

  it("passes the real output", () => {
    expect(escalation(resources)).toEqual([]);
  });

  it("privileged alone", () => {
    expect(
      escalation(
        features((_, c) => {
          c.securityContext.privileged = true;
        }),
      ),
    ).toEqual([PRIVILEGED]);
  });

  it("allowPrivilegeEscalation unset is the default, which allows it", () => {
    expect(
      escalation(
        features((_, c) => {
          delete c.securityContext.allowPrivilegeEscalation;
        }),
      ),
    ).toEqual([ESCALATES]);
  });

  it("privileged and escalating: both, in that order", () => {
    expect(
      escalation(
        features((_, c) => {
          c.securityContext.privileged = true;
          c.securityContext.allowPrivilegeEscalation = true;
        }),
      ),
    ).toEqual([PRIVILEGED, ESCALATES]);
  });
});

describe("containers-seccomp-runtime-default", () => {
  const FIX = 'set securityContext.seccompProfile: { type: "RuntimeDefault" } on the pod or container';
  const seccomp = (all: PlanResource[]) => run("containers-seccomp-runtime-default", all);

  it("passes the real output", () => {
    expect(seccomp(resources)).toEqual([]);
  });

  it("a container's Unconfined overrides its pod's RuntimeDefault", () => {
    expect(
      seccomp(
        features((_, c) => {
          c.securityContext.seccompProfile = { type: "Unconfined" };
        }),
      ),
    ).toEqual([{ message: `${FEATURES}: seccomp profile is Unconfined.`, fix: FIX }]);
  });

  it("a container without a profile inherits its pod's", () => {
    expect(
      seccomp(
        features((_, c) => {
          delete c.securityContext.seccompProfile;
        }),
      ),
    ).toEqual([]);
    expect(
      seccomp(
        features((p, c) => {
          delete c.securityContext.seccompProfile;
          p.securityContext.seccompProfile = { type: "Unconfined" };
        }),
      ),
    ).toEqual([{ message: `${FEATURES}: seccomp profile is Unconfined.`, fix: FIX }]);
  });

  it("no profile on either is Unconfined", () => {
    expect(
      seccomp(
        features((p, c) => {
          delete c.securityContext.seccompProfile;
          delete p.securityContext.seccompProfile;
        }),
      ),
    ).toEqual([{ message: `${FEATURES}: seccomp profile is unset (Unconfined).`, fix: FIX }]);
  });

  it("a Localhost profile passes, on the container or the pod", () => {
    expect(
      seccomp(
        features((_, c) => {
          c.securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" };
        }),
      ),
    ).toEqual([]);
    expect(
      seccomp(
        features((p, c) => {
          delete c.securityContext.seccompProfile;
          p.securityContext.seccompProfile = { type: "Localhost", localhostProfile: "p.json" };
        }),
      ),
    ).toEqual([]);
  });
});

describe("containers-image-pinned", () => {
  const pinned = (all: PlanResource[]) => run("containers-image-pinned", all);
  const image = (value: unknown) =>
    features((_, c) => {
      c.image = value;
    });

  it("passes the real output", () => {
    expect(pinned(resources)).toEqual([]);
  });

  it(":latest", () => {
    expect(pinned(image("ghcr.io/mlops-platform/services:latest"))).toEqual([
      { message: `${FEATURES}: image "ghcr.io/mlops-platform/services:latest" uses :latest.`, fix: "pin a version tag or digest" },
    ]);
  });

  it("no tag means :latest, even behind a registry port", () => {
    expect(pinned(image("registry.local:5000/services"))).toEqual([
      {
        message: `${FEATURES}: image "registry.local:5000/services" has no tag (means :latest).`,
        fix: 'pin a version, e.g. "registry.local:5000/services:1.2.3" or "registry.local:5000/services@sha256:..."',
      },
    ]);
  });

  it("a digest pins, with or without a tag, even :latest", () => {
    expect(pinned(image("ghcr.io/mlops-platform/services@sha256:0123abcd"))).toEqual([]);
    expect(pinned(image("ghcr.io/mlops-platform/services:latest@sha256:0123abcd"))).toEqual([]);
  });

  it("no image, or one that is not a string", () => {
    const NO_IMAGE = [{ message: `${FEATURES}: has no image.`, fix: "set the image, pinned by tag or digest" }];
    expect(
      pinned(
        features((_, c) => {
          delete c.image;
        }),
      ),
    ).toEqual(NO_IMAGE);
    expect(pinned(image(""))).toEqual(NO_IMAGE);
    expect(pinned(image(42))).toEqual(NO_IMAGE);
  });
});

describe("image references", () => {
  it("an image with no registry or path: its tag, or none", () => {
    expect(imageTag("busybox:1.36")).toEqual({ tag: "1.36", digest: undefined });
    expect(imageTag("busybox")).toEqual({ tag: undefined, digest: undefined });
  });

  it("a tag and a digest together", () => {
    expect(imageTag("ghcr.io/acme/tool:1.0.0@sha256:abc")).toEqual({ tag: "1.0.0", digest: "sha256:abc" });
  });

  it("the tag is read from the last path segment only", () => {
    expect(imageTag("registry.local:5000/team/services")).toEqual({ tag: undefined, digest: undefined });
    expect(imageTag("registry.local:5000/team/services:2.0")).toEqual({ tag: "2.0", digest: undefined });
  });
});

describe("pods-no-host-access", () => {
  const host = (all: PlanResource[]) => run("pods-no-host-access", all);
  const F = 'Deployment "mlops/features"';
  const HOST_PATH_FIX =
    "use an emptyDir, a ConfigMap or a PersistentVolumeClaim; a node daemon that truly needs it gets an allowlisted mlops.platform/policy-exception";

  it("passes the real output, the device plugin's allowlisted socket directory included", () => {
    expect(host(resources)).toEqual([]);
  });

  it("each host namespace is named", () => {
    expect(
      host(
        features((p) => {
          p.hostNetwork = true;
          p.hostPID = true;
          p.hostIPC = true;
        }),
      ),
    ).toEqual([
      { message: `${F}: shares the node's Network namespace (hostNetwork: true).`, fix: "remove hostNetwork" },
      { message: `${F}: shares the node's PID namespace (hostPID: true).`, fix: "remove hostPID" },
      { message: `${F}: shares the node's IPC namespace (hostIPC: true).`, fix: "remove hostIPC" },
    ]);
  });

  it('only true shares: false and "true" do not', () => {
    expect(
      host(
        features((p) => {
          p.hostNetwork = "true";
          p.hostPID = false;
        }),
      ),
    ).toEqual([]);
  });

  it("a host path volume is named with its path and volume; other volumes are not", () => {
    expect(
      host(
        features((p) => {
          p.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
        }),
      ),
    ).toEqual([{ message: `${F}: mounts host path /var/run/docker.sock (volume "docker").`, fix: HOST_PATH_FIX }]);
  });

  it("a hostPath with no path is not read as one", () => {
    expect(
      host(
        features((p) => {
          p.volumes.push({ name: "odd", hostPath: {} });
        }),
      ),
    ).toEqual([]);
  });

  it("the device plugin's exception allows its socket directory only", () => {
    const found = host(
      daemon("nvidia-device-plugin", (r) => {
        pod(r).volumes.push({ name: "etc", hostPath: { path: "/etc" } });
      }),
    );
    expect(found).toEqual([
      { message: 'DaemonSet "gpu-system/nvidia-device-plugin": mounts host path /etc (volume "etc").', fix: HOST_PATH_FIX },
    ]);
  });

  it("an allowlisted exception that lists no host paths allows none", () => {
    const daemonSet = resources.find((r) => r.type === DAEMONSET && (r.inputs as Props).metadata.name === "nvidia-device-plugin");
    const found: string[] = [];
    const args = {
      type: DAEMONSET,
      name: "nvidia-device-plugin",
      props: daemonSet?.inputs as Props,
      getConfig: () => ({
        exceptions: { "nvidia-device-plugin": { policies: ["pods-no-host-access"], namespaces: ["gpu-system"] } },
      }),
      notApplicable: () => {
        throw new Error("applies to a DaemonSet");
      },
    } as unknown as ResourceValidationArgs;
    const validate = (podsNoHostAccess as ResourceValidationPolicy).validateResource as ResourceValidation;
    validate(args, (message: string) => found.push(message));
    expect(found).toEqual([
      'DaemonSet "gpu-system/nvidia-device-plugin": mounts host path /var/lib/kubelet/device-plugins (volume "device-plugins"). Fix: use an emptyDir, a ConfigMap or a PersistentVolumeClaim; a node daemon that truly needs it gets an allowlisted mlops.platform/policy-exception',
    ]);
  });

  it("the same directory without the exception is a violation", () => {
    const found = host(
      features((p) => {
        p.volumes.push({ name: "plugins", hostPath: { path: "/var/lib/kubelet/device-plugins" } });
      }),
    );
    expect(found).toEqual([{ message: `${F}: mounts host path /var/lib/kubelet/device-plugins (volume "plugins").`, fix: HOST_PATH_FIX }]);
  });

  it("hostPort 0 binds no host port (Pod Security's baseline allows it, as it allows none)", () => {
    expect(
      host(
        features((_, c) => {
          c.ports[0].hostPort = 0;
        }),
      ),
    ).toEqual([]);
  });

  it("a host port is named with its container; a container port alone is fine", () => {
    expect(
      host(
        features((_, c) => {
          c.ports.push({ containerPort: 9090, hostPort: 9090 });
        }),
      ),
    ).toEqual([{ message: `${FEATURES}: binds host port 9090.`, fix: "remove hostPort and expose the port through a Service" }]);
    expect(
      host(
        features((_, c) => {
          c.ports.push({ containerPort: 9090, name: "metrics" });
        }),
      ),
    ).toEqual([]);
  });
});

const CREDENTIALS_FIX =
  "remove the key and grant access through workload identity (IRSA on EKS, Workload Identity on GKE) on the pod's ServiceAccount";
const KEY_ID = "AKIAIOSFODNN7EXAMPLE";

describe("no-static-cloud-credentials", () => {
  const credentials = (all: PlanResource[]) => run("no-static-cloud-credentials", all);
  const holds = (where: string, what: string) => ({ message: `${where}: ${what}.`, fix: CREDENTIALS_FIX });
  const env = (...vars: Props[]) =>
    features((_, c) => {
      c.env.push(...vars);
    });

  it("passes the real output", () => {
    expect(credentials(resources)).toEqual([]);
  });

  describe("in a container's env", () => {
    it("an access key id in any variable", () => {
      expect(credentials(env({ name: "S3_KEY", value: `key=${KEY_ID}` }))).toEqual([
        holds(FEATURES, "env S3_KEY holds an AWS access key id"),
      ]);
    });

    it("a temporary (ASIA) key id", () => {
      expect(credentials(env({ name: "S3_KEY", value: "ASIAIOSFODNN7EXAMPLE" }))).toEqual([
        holds(FEATURES, "env S3_KEY holds an AWS access key id"),
      ]);
    });

    it("a key id is a whole word of 20 characters: longer or shorter runs are not one", () => {
      expect(
        credentials(env({ name: "A", value: `X${KEY_ID}` }, { name: "B", value: `${KEY_ID}X` }, { name: "C", value: "AKIA123" })),
      ).toEqual([]);
    });

    it("a literal value for each of the key variables, whatever it looks like", () => {
      expect(
        credentials(
          env(
            { name: "AWS_ACCESS_KEY_ID", value: "not-a-key" },
            { name: "AWS_SECRET_ACCESS_KEY", value: "wJalrXUtnFEMI" },
            { name: "AWS_SESSION_TOKEN", value: "FwoGZX" },
          ),
        ),
      ).toEqual([
        holds(FEATURES, "env AWS_ACCESS_KEY_ID holds a literal AWS_ACCESS_KEY_ID"),
        holds(FEATURES, "env AWS_SECRET_ACCESS_KEY holds a literal AWS_SECRET_ACCESS_KEY"),
        holds(FEATURES, "env AWS_SESSION_TOKEN holds a literal AWS_SESSION_TOKEN"),
      ]);
    });

    it("a key variable from a Secret reference, or empty, holds no literal", () => {
      expect(
        credentials(
          env(
            { name: "AWS_ACCESS_KEY_ID", valueFrom: { secretKeyRef: { name: "aws", key: "id" } } },
            { name: "AWS_SECRET_ACCESS_KEY", value: "" },
          ),
        ),
      ).toEqual([]);
    });

    it("the key pattern wins over the variable name", () => {
      expect(credentials(env({ name: "AWS_ACCESS_KEY_ID", value: KEY_ID }))).toEqual([
        holds(FEATURES, "env AWS_ACCESS_KEY_ID holds an AWS access key id"),
      ]);
    });

    it("GOOGLE_APPLICATION_CREDENTIALS, by value or by reference", () => {
      const KEY_FILE = holds(FEATURES, "points GOOGLE_APPLICATION_CREDENTIALS at a service-account key file");
      expect(credentials(env({ name: "GOOGLE_APPLICATION_CREDENTIALS", value: "/keys/sa.json" }))).toEqual([KEY_FILE]);
      expect(
        credentials(env({ name: "GOOGLE_APPLICATION_CREDENTIALS", valueFrom: { configMapKeyRef: { name: "gcp", key: "path" } } })),
      ).toEqual([KEY_FILE]);
    });

    it("an AWS secret key assignment or a GCP key JSON in a value", () => {
      expect(
        credentials(
          env(
            { name: "AWS_CONFIG", value: "[default]\nAWS_SECRET_ACCESS_KEY = abc" },
            { name: "GCP_KEY", value: '{"type": "service_account", "private_key" : "-----BEGIN"}' },
          ),
        ),
      ).toEqual([
        holds(FEATURES, "env AWS_CONFIG holds an AWS secret access key"),
        holds(FEATURES, "env GCP_KEY holds a GCP service-account key (JSON with private_key)"),
      ]);
    });

    it("an init container of a bare Pod is read too", () => {
      const found = credentials([
        ...resources,
        barePod({ initContainers: [{ name: "setup", image: "x:1", env: [{ name: "K", value: KEY_ID }] }], containers: [] }),
      ]);
      expect(found).toEqual([holds('Pod "models/debug" container "setup"', "env K holds an AWS access key id")]);
    });
  });

  describe("on a container's command line", () => {
    it("in the command or the args, each argument once", () => {
      const found = credentials(
        features((_, c) => {
          c.command = ["sh", "-c", `export KEY=${KEY_ID}`];
          c.args = ["--aws_secret_access_key=abc", "--verbose", 7];
        }),
      );
      expect(found).toEqual([
        holds(FEATURES, "its command line holds an AWS access key id"),
        holds(FEATURES, "its command line holds an AWS secret access key"),
      ]);
    });
  });

  describe("in ConfigMaps and Secrets", () => {
    const catalog = (change: (r: Props) => void) => broken(CONFIGMAP, "mlops-catalog", change);

    it("a credential in a ConfigMap's data, named by the ConfigMap and the key", () => {
      expect(
        credentials(
          catalog((r) => {
            r.data.aws = "aws_secret_access_key: abc";
          }),
        ),
      ).toEqual([holds('ConfigMap "mlops/mlops-catalog"', 'key "aws" holds an AWS secret access key')]);
    });

    it("a ConfigMap's data is plain text: a base64 key in it is not decoded", () => {
      expect(
        credentials(
          catalog((r) => {
            r.data.blob = Buffer.from(KEY_ID).toString("base64");
          }),
        ),
      ).toEqual([]);
    });

    it("a value under a key variable's name, and only when it is not empty", () => {
      expect(
        credentials(
          catalog((r) => {
            r.data.AWS_SECRET_ACCESS_KEY = "abc";
          }),
        ),
      ).toEqual([holds('ConfigMap "mlops/mlops-catalog"', 'key "AWS_SECRET_ACCESS_KEY" holds a value for AWS_SECRET_ACCESS_KEY')]);
      expect(
        credentials(
          catalog((r) => {
            r.data.AWS_SECRET_ACCESS_KEY = "";
          }),
        ),
      ).toEqual([]);
    });

    it("a Secret's data is decoded from base64, and its stringData is read as it is", () => {
      const found = credentials(
        broken(SECRET, "features-stores", (r) => {
          r.data = { id: Buffer.from(KEY_ID).toString("base64") };
          r.stringData = { ...r.stringData, "sa.json": '{"private_key": "-----BEGIN"}' };
        }),
      );
      expect(found).toEqual([
        holds('Secret "mlops/features-stores"', 'key "id" holds an AWS access key id'),
        holds('Secret "mlops/features-stores"', 'key "sa.json" holds a GCP service-account key (JSON with private_key)'),
      ]);
    });

    it("an object without a namespace is in default, and one without a name is named by its resource", () => {
      const found = credentials([
        ...resources,
        resource(SECRET, "aws-keys", { apiVersion: "v1", kind: "Secret", stringData: { id: KEY_ID } }),
      ]);
      expect(found).toEqual([holds('Secret "default/aws-keys"', 'key "id" holds an AWS access key id')]);
    });
  });

  describe("providers and minted keys", () => {
    it("an IAM access key and a service-account key are minted static keys", () => {
      const found = credentials([
        ...resources,
        resource("aws:iam/accessKey:AccessKey", "ci-user-key", { user: "ci" }),
        resource("gcp:serviceaccount/key:Key", "ci-sa-key", { serviceAccountId: "ci" }),
      ]);
      expect(found).toEqual([
        holds('IAM access key "ci-user-key"', "mints a static AWS access key"),
        holds('service-account key "ci-sa-key"', "mints a static GCP service-account key"),
      ]);
    });

    it("an AWS provider with an access key or a secret key; one without either passes", () => {
      const STATIC = (name: string) => ({
        message: `AWS provider "${name}": is configured with a static access key.`,
        fix: "let the provider use the ambient credentials (OIDC in CI, SSO locally)",
      });
      const found = credentials([
        ...resources,
        resource("pulumi:providers:aws", "with-key", { region: "eu-west-1", accessKey: KEY_ID }),
        resource("pulumi:providers:aws", "with-secret", { region: "eu-west-1", secretKey: "abc" }),
        resource("pulumi:providers:aws", "ambient", { region: "eu-west-1" }),
      ]);
      expect(found).toEqual([STATIC("with-key"), STATIC("with-secret")]);
    });

    it("a GCP provider with credentials; one without passes", () => {
      const found = credentials([
        ...resources,
        resource("pulumi:providers:gcp", "with-key", { project: "p", credentials: "{}" }),
        resource("pulumi:providers:gcp", "adc", { project: "p" }),
      ]);
      expect(found).toEqual([
        {
          message: 'GCP provider "with-key": is configured with a service-account key.',
          fix: "let the provider use Application Default Credentials (Workload Identity Federation in CI)",
        },
      ]);
    });

    it("a provider of another kind with the same fields is not read", () => {
      expect(credentials([...resources, resource("pulumi:providers:kubernetes", "k", { accessKey: KEY_ID, credentials: "{}" })])).toEqual(
        [],
      );
    });
  });
});
