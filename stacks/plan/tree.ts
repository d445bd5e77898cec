import type { PlanResource } from "../../components/plan-resource";

/** Short type name for people: "aws:eks/nodeGroup:NodeGroup" -> "aws:eks:NodeGroup". */
export function shortType(type: string): string {
  const [pkg, mod = "", kind = ""] = type.split(":");
  return kind ? `${pkg}:${mod.split("/")[0]}:${kind}` : type;
}

/** Counts of resources per type (custom resources only; components are the tree's branches). */
export function countByType(resources: PlanResource[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const r of resources) if (r.custom) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/**
 * A tree of components; under each, its custom resources summarised by type with counts, so a
 * stack of a thousand resources still reads in one screen.
 */
export function renderTree(resources: PlanResource[], options: { maxDepth?: number } = {}): string {
  const children = new Map<string, PlanResource[]>();
  const roots: PlanResource[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  for (const r of resources) {
    if (r.parent && byUrn.has(r.parent)) {
      const list = children.get(r.parent) ?? [];
      list.push(r);
      children.set(r.parent, list);
    } else if (!r.custom) roots.push(r);
  }
  const total = (urn: string): number => (children.get(urn) ?? []).reduce((n, c) => n + (c.custom ? 1 : total(c.urn)), 0);
  const lines: string[] = [];
  const walk = (node: PlanResource, prefix: string, last: boolean, depth: number) => {
    const kids = children.get(node.urn) ?? [];
    const components = kids.filter((k) => !k.custom);
    const leaves = countByType(kids);
    lines.push(`${prefix}${last ? "└─ " : "├─ "}${node.name} (${shortType(node.type)}, ${total(node.urn)} resources)`);
    const inner = prefix + (last ? "   " : "│  ");
    if (options.maxDepth !== undefined && depth >= options.maxDepth) return;
    leaves.forEach(([type, n]) => lines.push(`${inner}· ${shortType(type)}${n > 1 ? ` x${n}` : ""}`));
    components.forEach((c, i) => walk(c, inner, i === components.length - 1, depth + 1));
  };
  roots.forEach((r, i) => walk(r, "", i === roots.length - 1, 0));
  const orphans = resources.filter((r) => r.custom && !(r.parent && byUrn.has(r.parent)) && !r.type.startsWith("pulumi:providers:"));
  if (orphans.length)
    lines.push(
      `(top level) ${countByType(orphans)
        .map(([t, n]) => `${shortType(t)} x${n}`)
        .join(", ")}`,
    );
  return lines.join("\n");
}
