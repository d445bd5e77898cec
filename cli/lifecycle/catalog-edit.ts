import { readFileSync, writeFileSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";

/** A text edit: replace [start, end) of the original with `text`. */
interface Splice {
  start: number;
  end: number;
  text: string;
}

function applySplices(text: string, splices: Splice[]): string {
  return [...splices].sort((a, b) => b.start - a.start).reduce((out, s) => out.slice(0, s.start) + s.text + out.slice(s.end), text);
}

/**
 * Adds a version to a model's catalog file as a canary at `weight`, taking that weight from the
 * version with the most traffic. The file is parsed with yaml's Document API to find the nodes,
 * and only their bytes are rewritten (the stable weight, and the new list item appended), so
 * comments, flow styles and everything else stay byte for byte: the pull request shows the minimum.
 */
export function addCanaryVersion(
  file: string,
  version: { name: string; modelUri: string; runtime?: string },
  weight: number,
): { stable: string; stableWeight: number } {
  const text = readFileSync(file, "utf8");
  const doc = parseDocument(text);
  const versions = doc.get("versions", true);
  if (!isSeq(versions) || !versions.range) throw new Error(`${file}: versions: is not a list`);
  const items = (versions as YAMLSeq).items.filter(isMap) as YAMLMap[];
  if (items.some((v) => v.get("name") === version.name))
    throw new Error(`${file}: versions: "${version.name}" already exists; promote a new version, or use npm run canary to move its weight`);
  const stable = items.reduce<YAMLMap | undefined>(
    (best, v) => (Number(v.get("weight") ?? 0) > Number(best?.get("weight") ?? -1) ? v : best),
    undefined,
  );
  const stableWeight = Number(stable?.get("weight") ?? 0);
  if (!stable || stableWeight < weight) throw new Error(`${file}: no version has ${weight}% of traffic to give to the canary`);
  const weightNode = stable.get("weight", true);
  if (!isScalar(weightNode) || !weightNode.range)
    throw new Error(`${file}: versions: the weight of "${String(stable.get("name"))}" is not a plain number`);

  const last = items[items.length - 1] as YAMLMap;
  const first = items[0] as YAMLMap;
  if (!last.range || !first.range) throw new Error(`${file}: versions: cannot locate the list items`);
  // Indentation of the list's dashes, read from the first item's line.
  const lineStart = text.lastIndexOf("\n", first.range[0]) + 1;
  const dash = text.lastIndexOf("-", first.range[0]);
  const indent = " ".repeat(Math.max(0, dash - lineStart));
  const lineEnd = text.indexOf("\n", last.range[1] - 1);
  const at = lineEnd === -1 ? text.length : lineEnd;
  const entry = [
    `- name: ${version.name}`,
    `  runtime: ${version.runtime ?? "onnx"}`,
    `  modelUri: ${version.modelUri}`,
    `  weight: ${weight}`,
  ]
    .map((l) => `${indent}${l}`)
    .join("\n");
  const edited = applySplices(text, [
    { start: weightNode.range[0], end: weightNode.range[1], text: String(stableWeight - weight) },
    { start: at, end: at, text: `\n${entry}` },
  ]);
  // The edit must still parse to what we meant; never write a broken catalog file.
  const check = parseDocument(edited);
  const added = (check.get("versions") as YAMLSeq).items.filter(isMap).find((v) => v.get("name") === version.name);
  if (check.errors.length || Number(added?.get("weight")) !== weight)
    throw new Error(`${file}: could not add ${version.name} without breaking the file; edit it by hand`);
  writeFileSync(file, edited);
  return { stable: String(stable.get("name")), stableWeight: stableWeight - weight };
}
