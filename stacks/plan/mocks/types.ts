/** Realistic outputs for one resource type, computed from its inputs (ids, ARNs, endpoints). */
export type OutputsFn = (ctx: {
  name: string;
  inputs: Record<string, unknown>;
  region: string;
  project: string;
  stack: string;
}) => Record<string, unknown>;
/** A mocked function invoke (data source): its realistic result. */
export type CallFn = (inputs: Record<string, unknown>, ctx: { region: string; project: string }) => Record<string, unknown>;

export interface MockTable {
  /** Keyed by exact type token, e.g. "aws:eks/cluster:Cluster". */
  outputs: Record<string, OutputsFn>;
  /** Keyed by exact invoke token, e.g. "aws:index/getAvailabilityZones:getAvailabilityZones". */
  calls: Record<string, CallFn>;
}

/** Stable 12-hex-digit suffix from a name, so ids are realistic and repeatable across runs. */
export function suffix(name: string, length = 12): string {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  let out = "";
  while (out.length < length) {
    h = Math.imul(h ^ (h >>> 13), 1274126177) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, length);
}

export const AWS_ACCOUNT = "123456789012";
