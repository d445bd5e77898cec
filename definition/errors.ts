import type { z } from "zod";

/** One problem in a stack file or catalog file: where it is, what is wrong, how to fix it. */
export interface SpecIssue {
  /** The file the value came from, relative to the repository root. */
  file: string;
  /** Dotted field path inside the file, e.g. `nodePools[1].maxSize`. */
  path: string;
  /** What is wrong, as a sentence (may quote the value). */
  message: string;
  /** What to do about it. */
  fix?: string;
}

/** Thrown when a stack or catalog does not validate; carries every issue found, not only the first. */
export class SpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[]) {
    super(formatIssues(issues));
    this.name = "SpecError";
    this.issues = issues;
  }
}

export function formatIssue(issue: SpecIssue): string {
  const where = issue.path ? `${issue.file}: ${issue.path}` : issue.file;
  return `${where}: ${issue.message}${issue.fix ? `; ${issue.fix}` : ""}`;
}

export function formatIssues(issues: SpecIssue[]): string {
  const n = issues.length;
  return `${n} problem${n === 1 ? "" : "s"} in the platform spec:\n${issues.map((i) => `  - ${formatIssue(i)}`).join("\n")}`;
}

/** Renders a path like ["nodePools", 1, "maxSize"] as `nodePools[1].maxSize`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** Reads the value at `path` from a plain object, for quoting it in an error. */
export function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return cur;
}

export function quote(value: unknown): string {
  if (value === undefined) return "(missing)";
  const s = JSON.stringify(value);
  return s && s.length > 80 ? `${s.slice(0, 77)}...` : (s ?? String(value));
}

/** Turns zod's issues into SpecIssues that name the file, the path, the value and a fix. */
export function zodIssues(file: string, raw: unknown, error: z.ZodError, prefix: PropertyKey[] = []): SpecIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path];
    const value = valueAt(raw, issue.path);
    let fix: string | undefined;
    if (issue.code === "invalid_value" && "values" in issue) {
      fix = `use one of ${(issue.values as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    } else if (issue.code === "unrecognized_keys") {
      fix = "remove it, or check its spelling against the schema in catalog/schema/";
    } else if (issue.code === "invalid_type" && value === undefined) {
      fix = "add it";
    }
    const message =
      issue.code === "unrecognized_keys"
        ? `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`
        : value === undefined
          ? `${issue.message}`
          : `${quote(value)} is not valid: ${issue.message}`;
    return { file, path: formatPath(path), message, fix };
  });
}
