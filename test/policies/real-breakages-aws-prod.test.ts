import { edit, type Props } from "../../policies/scan/coverage";
import { container, k8sNamed, podSpec } from "../../policies/scan/coverage-rows";
import { describeRealBreakages, tableCases } from "./fixtures/real";

/**
 * The pack over aws-prod's real plan, one breakage per test: every broken copy of the coverage
 * table on this stack (its policies as policies/scan/coverage-result.json recorded them, so the
 * table and the pack cannot drift apart), then the workload kinds and variants the table does not
 * break: CronJobs, the Job a CronJob starts, DaemonSets and their init containers.
 */

const CRONJOB = "kubernetes:batch/v1:CronJob";
const DAEMONSET = "kubernetes:apps/v1:DaemonSet";
const drift = (change: (c: Props) => void) => edit(CRONJOB, (j) => change(container(j)), k8sNamed("drift-fraud-scorer"));
const prepullInit = (change: (c: Props) => void) =>
  edit(DAEMONSET, (d) => change(podSpec(d).initContainers[0]), k8sNamed("runtime-image-prepull"));

describeRealBreakages("aws-prod", () => [
  ...tableCases("aws-prod"),
  {
    name: "a drift CronJob's container without limits",
    apply: drift((c) => void delete c.resources.limits),
    fires: ["containers-have-resources"],
  },
  {
    name: "a drift CronJob's container as root",
    apply: drift((c) => Object.assign(c.securityContext, { runAsUser: 0, runAsNonRoot: false })),
    fires: ["containers-run-as-non-root"],
  },
  {
    name: "a drift CronJob's image :latest",
    apply: drift((c) => {
      c.image = "ghcr.io/mlops-platform/drift:latest";
    }),
    fires: ["containers-image-pinned"],
  },
  {
    name: "a drift CronJob without probes (Jobs are exempt)",
    apply: drift((c) => {
      delete c.readinessProbe;
      delete c.livenessProbe;
    }),
    fires: [],
  },
  {
    name: "the training Job a CronJob starts, writable root filesystem",
    apply: (resources) => {
      const cron = resources.find((r) => r.type === CRONJOB && k8sNamed("train-fraud-scorer")(r));
      if (!cron) throw new Error("aws-prod has no train-fraud-scorer CronJob");
      const spec = structuredClone((cron.inputs.spec as Props).jobTemplate.spec);
      spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
      const inputs = {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { ...(cron.inputs.metadata as Props), name: "train-fraud-scorer-manual" },
        spec,
      };
      return [
        ...resources,
        {
          ...cron,
          type: "kubernetes:batch/v1:Job",
          name: "train-fraud-scorer-manual",
          urn: cron.urn.replace(/CronJob::.*$/, "Job::train-fraud-scorer-manual"),
          inputs,
          outputs: inputs,
        },
      ];
    },
    fires: ["containers-read-only-root-filesystem"],
  },
  {
    name: "the image pre-pull DaemonSet's init container without limits",
    apply: prepullInit((c) => void delete c.resources.limits),
    fires: ["containers-have-resources"],
  },
  {
    name: "the image pre-pull DaemonSet's init container privileged",
    apply: prepullInit((c) => {
      c.securityContext.privileged = true;
    }),
    fires: ["containers-no-privilege-escalation"],
  },
  {
    name: "the image pre-pull DaemonSet's init container keeps its capabilities",
    apply: prepullInit((c) => {
      c.securityContext.capabilities = {};
    }),
    fires: ["containers-drop-all-capabilities"],
  },
  {
    name: "the NVIDIA device plugin mounts a host path beyond its socket directory",
    apply: edit(
      DAEMONSET,
      (d) => void podSpec(d).volumes.push({ name: "root", hostPath: { path: "/" } }),
      k8sNamed("nvidia-device-plugin"),
    ),
    fires: ["pods-no-host-access"],
  },
  {
    name: "the DCGM exporter DaemonSet without a readiness probe",
    apply: edit(DAEMONSET, (d) => void delete container(d).readinessProbe, k8sNamed("dcgm-exporter")),
    fires: ["containers-have-probes"],
  },
  {
    name: "the tracking server with its non-root settings on the pod only (the container inherits them)",
    apply: edit(
      "kubernetes:apps/v1:Deployment",
      (d) => {
        delete container(d).securityContext.runAsNonRoot;
        delete container(d).securityContext.runAsUser;
      },
      k8sNamed("mlflow"),
    ),
    fires: [],
  },
]);
