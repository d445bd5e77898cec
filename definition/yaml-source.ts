import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { type Document, LineCounter, parseDocument } from "yaml";
import { type SpecIssue, SpecError } from "./errors";

/** A parsed YAML file that remembers where each value sits, so errors can give a line number. */
export interface YamlSource {
  /** Path relative to the repository root (or as given, when outside it). */
  file: string;
  data: unknown;
  doc: Document;
  lines: LineCounter;
}

/**
 * The repository root (definition/ sits at its top). Origins are relative to it, never to the
 * working directory: `pulumi up` runs the program from stacks/, the tests from the root, and the
 * rendered catalog (a ConfigMap whose checksum restarts pods) must be the same bytes from both
 * and from any checkout path.
 */
export const REPOSITORY_ROOT = resolve(__dirname, "..");

export function displayPath(path: string, root = REPOSITORY_ROOT): string {
  const rel = relative(root, resolve(path));
  return rel.startsWith("..") ? path : rel;
}

export function readYaml(path: string, root?: string): YamlSource {
  const file = displayPath(path, root);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new SpecError([{ file, path: "", message: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})` }]);
  }
  return parseYaml(text, file);
}

export function parseYaml(text: string, file: string): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new SpecError(
      doc.errors.map((e) => ({
        file: `${file}:${lines.linePos(e.pos[0]).line}`,
        path: "",
        message: `is not valid YAML: ${e.message.split("\n")[0]}`,
        fix: "fix the YAML syntax (indentation, quoting) at that line",
      })),
    );
  }
  return { file, data: doc.toJS() ?? {}, doc, lines };
}

/** Adds `:line` to an issue's file when the path can be found in the document. */
export function withLine(source: YamlSource, issue: SpecIssue, docPath: ReadonlyArray<PropertyKey>): SpecIssue {
  const keys = docPath.map((k) => (typeof k === "number" ? k : String(k)));
  for (let n = keys.length; n >= 0; n--) {
    const node = source.doc.getIn(keys.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === "object" && node.range) {
      const { line } = source.lines.linePos(node.range[0]);
      return { ...issue, file: `${source.file}:${line}` };
    }
  }
  return issue;
}

/** Parses a dotted path produced by formatPath back into keys (`a.b[2].c` -> ["a","b",2,"c"]). */
export function splitPath(path: string): PropertyKey[] {
  const keys: PropertyKey[] = [];
  for (const part of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (part[2] !== undefined) keys.push(Number(part[2]));
    else if (part[1] !== undefined) keys.push(part[1]);
  }
  return keys;
}
