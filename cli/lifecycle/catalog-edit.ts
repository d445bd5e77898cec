import { readFileSync, writeFileSync } from "node:fs";
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { Model, type ModelSpec } from "../../definition";

/** Traffic weight per version name. */
export type Weights = Record<string, number>;

/** A catalog edit that cannot be made safely: what is wrong and what to do instead. */
export class CatalogEditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CatalogEditError";
  }
}

export function weightsOf(model: Pick<ModelSpec, "versions">): Weights {
  return Object.fromEntries(model.versions.map((v) => [v.name, v.weight]));
}

/**
 * Adds a version to a model's catalog file as a canary at `weight`, taking that weight from the
 * version with the most traffic. The new list item is spliced in after the last one and the weight
 * change goes through `applyWeights`, so every other byte of the file (comments, flow styles) stays.
 */
export function addCanaryVersion(
  file: string,
  version: { name: string; modelUri: string; runtime?: string },
  weight: number,
): { stable: string; stableWeight: number } {
  const text = readFileSync(file, "utf8");
  const doc = parseDocument(text);
  const versions = doc.get("versions", true);
  if (!isSeq(versions) || !versions.range) throw new CatalogEditError(`${file}: versions: is not a list`);
  const items = (versions as YAMLSeq).items.filter(isMap) as YAMLMap[];
  if (items.some((v) => v.get("name") === version.name))
    throw new CatalogEditError(
      `${file}: versions: "${version.name}" already exists; promote a new version, or use npm run canary to move its weight`,
    );
  const stable = items.reduce<YAMLMap | undefined>(
    (best, v) => (Number(v.get("weight") ?? 0) > Number(best?.get("weight") ?? -1) ? v : best),
    undefined,
  );
  const stableWeight = Number(stable?.get("weight") ?? 0);
  if (!stable || stableWeight < weight) throw new CatalogEditError(`${file}: no version has ${weight}% of traffic to give to the canary`);
  const last = items[items.length - 1] as YAMLMap;
  const first = items[0] as YAMLMap;
  if (!last.range || !first.range) throw new CatalogEditError(`${file}: versions: cannot locate the list items`);
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
  const withVersion = `${text.slice(0, at)}\n${entry}${text.slice(at)}`;
  const stableName = String(stable.get("name"));
  // applyWeights re-reads the result and refuses to write a file that does not say what we meant.
  writeFileSync(file, applyWeights(withVersion, { [stableName]: stableWeight - weight, [version.name]: weight }));
  return { stable: stableName, stableWeight: stableWeight - weight };
}

/**
 * Rewrites only the weight values of the versions whose weight changed; every other byte stays.
 * The text is edited at the value's source range rather than re-stringified, because
 * re-stringifying normalises flow-collection spacing and quoting all over the file.
 */
export function applyWeights(text: string, after: Weights): string {
  const doc = parseDocument(text, { keepSourceTokens: true });
  const versions = doc.get("versions", true);
  if (!isSeq(versions)) throw new CatalogEditError("the file has no versions: list; edit it by hand");
  const edits: { at: number; end: number; text: string }[] = [];
  versions.items.forEach((item) => {
    if (!isMap(item)) return;
    const name = String(item.get("name"));
    const weight = after[name];
    const node = item.get("weight", true);
    const old = isScalar(node) ? Number(node.value) : 0;
    if (weight === undefined || weight === old) return;
    if (isScalar(node) && node.range) {
      edits.push({ at: node.range[0], end: node.range[1], text: String(weight) });
      return;
    }
    // No weight key yet (it defaults to 0): add one right after the version's name.
    const namePair = item.items.find((p) => isScalar(p.key) && p.key.value === "name");
    const nameValue = namePair?.value;
    const keyStart = isScalar(namePair?.key) ? namePair.key.range?.[0] : undefined;
    if (!isScalar(nameValue) || !nameValue.range || keyStart === undefined)
      throw new CatalogEditError(`version "${name}" has no name: key to anchor the new weight; edit the file by hand`);
    if (item.flow) {
      edits.push({ at: nameValue.range[1], end: nameValue.range[1], text: `, weight: ${weight}` });
    } else {
      const lineEnd = text.indexOf("\n", nameValue.range[1]);
      const column = keyStart - (text.lastIndexOf("\n", keyStart - 1) + 1);
      const at = lineEnd < 0 ? text.length : lineEnd;
      edits.push({ at, end: at, text: `\n${" ".repeat(column)}weight: ${weight}` });
    }
  });
  let out = text;
  for (const edit of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, edit.at) + edit.text + out.slice(edit.end);
  // Guard against an edit that does not say what we meant (aliases, merge keys, odd layouts).
  const written = weightsOf(Model.parse(parseDocument(out).toJS()));
  for (const [name, weight] of Object.entries(after)) {
    if (written[name] !== weight)
      throw new CatalogEditError(
        `could not rewrite the weight of "${name}" safely (got ${written[name]}, meant ${weight}); edit the file by hand`,
      );
  }
  return out;
}
