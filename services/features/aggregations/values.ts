/**
 * A value as tile states keep it (JSON): numbers, strings and booleans; a bigint stays a number
 * when exact and becomes its decimal text beyond 2^53; a Date becomes epoch microseconds; bytes base64.
 */
export type JsonScalar = number | string | boolean;

export function jsonScalar(value: unknown): JsonScalar {
  if (typeof value === "bigint") return value >= -9007199254740991n && value <= 9007199254740991n ? Number(value) : value.toString();
  if (value instanceof Date) return value.getTime() * 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") return value;
  return String(value);
}
