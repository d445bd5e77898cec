import { edit, type Props } from "../../policies/scan/coverage";
import { container, k8sNamed, podSpec } from "../../policies/scan/coverage-rows";
import { describeRealBreakages } from "./fixtures/real";

/**
 * The pack over the local stack's real plan, one breakage per test: its in-cluster stores are the
 * platform's StatefulSets (Redis, PostgreSQL, MinIO), which no cloud stack creates.
 */

const redis = (change: (set: Props) => void) => edit("kubernetes:apps/v1:StatefulSet", change, k8sNamed("redis"));

describeRealBreakages("local", () => [
  {
    name: "the Redis StatefulSet without limits",
    apply: redis((s) => {
      delete container(s).resources.limits;
    }),
    fires: ["containers-have-resources"],
  },
  {
    name: "the Redis StatefulSet without a liveness probe",
    apply: redis((s) => {
      delete container(s).livenessProbe;
    }),
    fires: ["containers-have-probes"],
  },
  {
    name: "the Redis StatefulSet as root",
    apply: redis((s) => {
      for (const ctx of [podSpec(s).securityContext, container(s).securityContext])
        Object.assign(ctx, { runAsUser: 0, runAsNonRoot: false });
    }),
    fires: ["containers-run-as-non-root"],
  },
  {
    name: "the Redis StatefulSet with a writable root filesystem",
    apply: redis((s) => {
      container(s).securityContext.readOnlyRootFilesystem = false;
    }),
    fires: ["containers-read-only-root-filesystem"],
  },
  {
    name: "the Redis StatefulSet on the host network",
    apply: redis((s) => {
      podSpec(s).hostNetwork = true;
    }),
    fires: ["pods-no-host-access"],
  },
  {
    name: "the PostgreSQL StatefulSet without seccomp (pod and container)",
    apply: edit(
      "kubernetes:apps/v1:StatefulSet",
      (s) => {
        delete podSpec(s).securityContext.seccompProfile;
        delete container(s).securityContext.seccompProfile;
      },
      k8sNamed("postgres"),
    ),
    fires: ["containers-seccomp-runtime-default"],
  },
  {
    name: "the MinIO StatefulSet under a Localhost seccomp profile",
    apply: edit(
      "kubernetes:apps/v1:StatefulSet",
      (s) => {
        const profile = { type: "Localhost", localhostProfile: "profiles/minio.json" };
        podSpec(s).securityContext.seccompProfile = profile;
        container(s).securityContext.seccompProfile = profile;
      },
      k8sNamed("minio"),
    ),
    fires: [],
  },
]);
