import type { PlanResource } from "../../components/plan-resource";
import type { Breakage, Props } from "./coverage";

/**
 * One row of policies/COVERAGE.md: a scanner rule for a resource type this platform creates, the
 * policies of ours the table maps to it, and the broken copy of a stack that proves (or refutes)
 * the mapping. A row without a breakage says why in `status` (waived, not applicable).
 */
export interface CoverageRow {
  /** Stable id: the broken copy's directory and the key of the recorded result. */
  id: string;
  section: "aws" | "gcp" | "kubernetes";
  /** The scanner rules as the table shows them (Checkov id, tfsec/trivy name, kube-score id, Polaris id). */
  rule: string;
  checks: string;
  /** Our policies the mapping names ([] when no policy of ours claims it). */
  policies: string[];
  /** What the scanners we run must report on the broken copy: "checkov CKV_AWS_19", "trivy AVD-AWS-0089", "kube-score pod-probes". */
  scanners: string[];
  breakage?: Breakage;
  /** For a row without a breakage: why it has none. */
  status?: string;
  notes?: string;
}

/** Matches a Kubernetes object by metadata.name. */
export const k8sNamed = (name: string) => (r: PlanResource) => (r.inputs.metadata as { name?: string } | undefined)?.name === name;

/** The pod spec of a workload of any kind (CronJob: its Job template's). */
export function podSpec(workload: Props): Props {
  const spec = workload.spec;
  if (spec.jobTemplate) return spec.jobTemplate.spec.template.spec;
  if (spec.template) return spec.template.spec;
  return spec;
}

/** The first container of a workload. */
export const container = (workload: Props): Props => podSpec(workload).containers[0];
