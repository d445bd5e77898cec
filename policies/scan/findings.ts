import { z } from "zod";

/**
 * What the scanners report, in one shape: which scanner, its rule id, and the resource it names
 * in the scanner's own spelling (Checkov: `Kind.namespace.name` for manifests and the Terraform
 * address `aws_s3_bucket.name` for the plan; kube-score's objects spelled the same `Kind.namespace.name`;
 * trivy: its AVD id, `Kind.namespace.name` of the manifest file or the Terraform address;
 * promtool: `PrometheusRule.namespace.name`).
 */
export interface Finding {
  scanner: "checkov" | "kube-score" | "trivy" | "promtool";
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

const trivyMisconfiguration = z
  .object({
    ID: z.string(),
    AVDID: z.string().optional(),
    Title: z.string().optional(),
    Message: z.string().optional(),
    Status: z.string(),
    CauseMetadata: z.object({ Resource: z.string().optional() }).passthrough().optional(),
  })
  .passthrough();
const trivyReport = z
  .object({
    Results: z
      .array(
        z
          .object({
            Target: z.string(),
            Type: z.string().optional(),
            Misconfigurations: z.array(trivyMisconfiguration).nullable().optional(),
          })
          .passthrough(),
      )
      .nullable()
      .optional(),
  })
  .passthrough();

/**
 * A trivy check's AVD id: the id tfsec and trivy's docs have used (`AVD-AWS-0089`). trivy-checks
 * now states it as the check's first alias and reports `ID: "AWS-0089"` with no AVDID, so the id
 * gets its `AVD-` prefix back; one that is not of that shape is kept as trivy spells it.
 */
export function avdId(id: string, avdid?: string): string {
  if (avdid) return avdid;
  return /^[A-Z]+-\d+$/.test(id) ? `AVD-${id}` : id;
}

/**
 * `trivy config -f json` output: a finding per failed misconfiguration, its check named by the AVD
 * id (`AVD-AWS-0089`, `AVD-KSV-0017`). `manifestNames` maps a scanned manifest's path (as trivy's
 * Target) to `Kind.namespace.name`, since trivy names only the file. A Terraform plan's finding
 * names the resource address trivy reports; trivy turns the plan into a virtual `main.tf` (Type
 * `terraformplan`: a `.` result, and a `main.tf` one when a check failed), so those findings carry
 * `planFile` as their file.
 * `targets` counts the scanned files per config type (kubernetes, terraformplan), so a scan that
 * read nothing shows.
 */
export function parseTrivy(
  stdout: string,
  manifestNames: ReadonlyMap<string, string>,
  planFile = "tfplan.json",
): { findings: (Finding & { file: string })[]; targets: Record<string, number> } {
  const report = trivyReport.parse(JSON.parse(stdout));
  const findings: (Finding & { file: string })[] = [];
  const targets: Record<string, number> = {};
  for (const result of report.Results ?? []) {
    const type = result.Type ?? "unknown";
    // A plan is one virtual main.tf, reported as `.` (and `main.tf` when a check failed): count it once.
    targets[type] = type === "terraformplan" ? 1 : (targets[type] ?? 0) + 1;
    const file = type === "terraformplan" ? planFile : result.Target;
    for (const m of result.Misconfigurations ?? []) {
      if (m.Status !== "FAIL") continue;
      const resource = manifestNames.get(result.Target) ?? m.CauseMetadata?.Resource ?? result.Target;
      const detail = [m.Title, m.Message].filter(Boolean).join(": ");
      findings.push({ scanner: "trivy", check: avdId(m.ID, m.AVDID), resource, detail, file });
    }
  }
  return { findings, targets };
}
