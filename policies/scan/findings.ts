import { z } from "zod";

/**
 * What the scanners report, in one shape: which scanner, its rule id, and the resource it names
 * in the scanner's own spelling (Checkov: `Kind.namespace.name` for manifests and the Terraform
 * address `aws_s3_bucket.name` for the plan; kube-score's objects spelled the same `Kind.namespace.name`;
 * promtool: `PrometheusRule.namespace.name`).
 */
export interface Finding {
  scanner: "checkov" | "kube-score" | "promtool";
  check: string;
  resource: string;
  /** The scanner's own words (check name, kube-score comment). */
  detail: string;
}

export const findingKey = (f: Finding): string => `${f.scanner} ${f.check} ${f.resource}`;

const checkovFailed = z.object({
  check_id: z.string(),
  check_name: z.string().optional(),
  resource: z.string(),
  file_path: z.string().optional(),
});
const checkovReport = z.object({
  check_type: z.string(),
  results: z.object({ failed_checks: z.array(checkovFailed) }),
  summary: z.object({ parsing_errors: z.number(), resource_count: z.number() }).passthrough(),
});

/**
 * Checkov's `-o json` output: one report object per framework (a bare object when one framework
 * ran, a list otherwise; an empty-summary object when nothing was scanned).
 */
export function parseCheckov(stdout: string): {
  findings: (Finding & { file: string })[];
  frameworks: Record<string, { resources: number; parsingErrors: number }>;
} {
  const raw: unknown = JSON.parse(stdout);
  const reports = (Array.isArray(raw) ? raw : [raw]).filter((r) => typeof r === "object" && r !== null && "check_type" in r);
  const findings: (Finding & { file: string })[] = [];
  const frameworks: Record<string, { resources: number; parsingErrors: number }> = {};
  for (const item of reports) {
    const report = checkovReport.parse(item);
    frameworks[report.check_type] = { resources: report.summary.resource_count, parsingErrors: report.summary.parsing_errors };
    for (const f of report.results.failed_checks) {
      findings.push({ scanner: "checkov", check: f.check_id, resource: f.resource, detail: f.check_name ?? "", file: f.file_path ?? "" });
    }
  }
  return { findings, frameworks };
}

const kubeScoreObject = z.object({
  object_name: z.string(),
  type_meta: z.object({ kind: z.string() }).passthrough(),
  object_meta: z.object({ name: z.string(), namespace: z.string().optional() }).passthrough(),
  checks: z.array(
    z.object({
      check: z.object({ id: z.string() }).passthrough(),
      grade: z.number(),
      skipped: z.boolean(),
      comments: z.array(z.object({ path: z.string().optional(), summary: z.string().optional() }).passthrough()).nullable(),
    }),
  ),
});

/** kube-score's grades: 10 all OK, 7 almost OK, 5 warning, 1 critical. */
export const KUBE_SCORE_OK = 10;

/** kube-score's `-o json` output: a finding per object and failed check (warnings included). */
export function parseKubeScore(stdout: string): Finding[] {
  const objects = z.array(kubeScoreObject).parse(JSON.parse(stdout));
  const findings: Finding[] = [];
  for (const o of objects) {
    const resource = `${o.type_meta.kind}.${o.object_meta.namespace ?? "default"}.${o.object_meta.name}`;
    for (const c of o.checks) {
      if (c.skipped || c.grade >= KUBE_SCORE_OK) continue;
      const detail = (c.comments ?? []).map((m) => [m.path, m.summary].filter(Boolean).join(": ")).join("; ");
      findings.push({ scanner: "kube-score", check: c.check.id, resource, detail });
    }
  }
  return findings;
}
