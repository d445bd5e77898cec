import type { PolicyResource } from "@pulumi/policy";

/**
 * Links between resources in `validateStack`. In AWS provider v7 a bucket's public-access block,
 * encryption and versioning are separate resources that name the bucket in a property; the
 * engine tells which resource a property came from (propertyDependencies), and the values match
 * once the bucket exists. During a real preview outputs may be unknown, and reading one throws,
 * so every read here is guarded.
 */

/** Reads a prop, or undefined when the engine marks it unknown (preview) or it is missing. */
export function safeProp(resource: PolicyResource, key: string): unknown {
  try {
    return resource.props[key];
  } catch {
    return undefined;
  }
}

/**
 * Whether `child.props[prop]` refers to `parent`: by property dependency when the engine gave
 * one, else by value (the parent's id, name or ARN), else by a plain dependency when the child
 * depends on no other resource of the parent's type.
 */
export function refersTo(
  child: PolicyResource,
  prop: string,
  parent: PolicyResource,
  idProps: string[] = ["id", "bucket", "arn", "name"],
): boolean {
  const byProperty = child.propertyDependencies[prop];
  if (byProperty && byProperty.length > 0) return byProperty.includes(parent);
  const value = safeProp(child, prop);
  if (value !== undefined && idProps.some((key) => safeProp(parent, key) === value)) return true;
  const sameType = child.dependencies.filter((d) => d.type === parent.type);
  return sameType.length === 1 && sameType[0] === parent;
}

/** Resources of any of `types`. */
export function ofTypes(resources: PolicyResource[], types: string[]): PolicyResource[] {
  return resources.filter((r) => types.includes(r.type));
}
