import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { type Finding, findingKey } from "./findings";

/**
 * The one file of accepted scanner findings (policies/scanner-waivers.yaml): each waiver names a
 * scanner rule, the resources it covers (globs over the scanner's resource name) and the stacks,
 * with the reason a reviewer accepted. A finding no waiver covers fails the scan; so does a waiver
 * that covers nothing in a stack it names, so the file cannot keep excuses for fixed problems.
 */
export const waiverSchema = z
  .object({
    scanner: z.enum(["checkov", "kube-score", "trivy", "promtool"]),
    check: z.string().min(1),
    resources: z.array(z.string().min(1)).min(1),
    stacks: z.array(z.string().min(1)).min(1).default(["*"]),
    reason: z.string().min(40, "say why a reviewer accepts it (at least a sentence)"),
  })
  .strict();
export const waiverFileSchema = z.object({ waivers: z.array(waiverSchema) }).strict();
export type Waiver = z.infer<typeof waiverSchema>;

export const WAIVER_FILE = join(__dirname, "..", "scanner-waivers.yaml");

export function loadWaivers(file = WAIVER_FILE): Waiver[] {
  const parsed = waiverFileSchema.safeParse(parse(readFileSync(file, "utf8")));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  return parsed.data.waivers;
}

/** A glob over resource names: `*` any run of characters, everything else literal. */
export function globMatches(glob: string, name: string): boolean {
  const pattern = glob
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(name);
}

const appliesTo = (w: Waiver, stack: string) => w.stacks.some((s) => globMatches(s, stack));

export function waiverCovers(w: Waiver, f: Finding): boolean {
  return w.scanner === f.scanner && w.check === f.check && w.resources.some((glob) => globMatches(glob, f.resource));
}

export interface Judgement {
  /** Findings no waiver covers: each one fails the scan. */
  unexplained: Finding[];
  /** Findings a waiver covers, with the reason. */
  waived: { finding: Finding; reason: string }[];
  /** Waivers naming this stack that cover none of its findings: stale, they fail the scan too. */
  stale: Waiver[];
}

/** Sorts the findings of one stack into waived and unexplained, and finds the stale waivers. */
export function judge(findings: Finding[], waivers: Waiver[], stack: string): Judgement {
  const active = waivers.filter((w) => appliesTo(w, stack));
  const used = new Set<Waiver>();
  const unexplained: Finding[] = [];
  const waived: { finding: Finding; reason: string }[] = [];
  const seen = new Set<string>();
  for (const f of findings) {
    if (seen.has(findingKey(f))) continue;
    seen.add(findingKey(f));
    const w = active.find((candidate) => waiverCovers(candidate, f));
    if (w) {
      used.add(w);
      waived.push({ finding: f, reason: w.reason });
    } else unexplained.push(f);
  }
  return { unexplained, waived, stale: active.filter((w) => !used.has(w)) };
}
