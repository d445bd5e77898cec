/**
 * Event times at full precision. Feast (since 0.59) writes `_ts` with nanos and compares nanos for
 * "write only if newer"; a double of epoch seconds keeps only ~0.2 µs near 2024 and our old whole
 * seconds dropped every fraction. So an event time is a bigint of epoch nanoseconds throughout the
 * online path; conversions to and from every outside form live here.
 */
export type EpochNanos = bigint;

const NS_PER_S = 1_000_000_000n;
const NS_PER_MS = 1_000_000n;
const NS_PER_US = 1_000n;

/** Event time of an epoch-seconds number (fractions kept to the microsecond, all a double holds honestly). */
export function nanosFromSeconds(seconds: number): EpochNanos {
  if (Number.isInteger(seconds)) return BigInt(seconds) * NS_PER_S;
  return BigInt(Math.round(seconds * 1e6)) * NS_PER_US;
}

/** Whole epoch seconds (floor), e.g. for a DynamoDB TTL attribute or a TTL check. */
export function secondsOf(nanos: EpochNanos): number {
  return Number(floorDiv(nanos, NS_PER_S));
}

/** Epoch seconds as a double (sub-microsecond digits are lost): for TTL arithmetic against a clock. */
export function secondsFloat(nanos: EpochNanos): number {
  return Number(nanos) / 1e9;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}

/** The parts of `google.protobuf.Timestamp`: seconds and nanos in [0, 1e9). */
export function timestampParts(nanos: EpochNanos): { seconds: bigint; nanos: number } {
  const seconds = floorDiv(nanos, NS_PER_S);
  return { seconds, nanos: Number(nanos - seconds * NS_PER_S) };
}

export function nanosFromParts(seconds: bigint | number, nanos: number): EpochNanos {
  return BigInt(seconds) * NS_PER_S + BigInt(nanos);
}

// 1-9 fraction digits, then a zone (Z, +hh:mm, +hhmm) or none (UTC, as Feast's make_tzaware reads it).
const ISO = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(?:[.,](\d{1,9})\d*)?)?\s*(Z|z|[+-]\d{2}:?\d{2}|UTC|\+00:00)?$/;

/** Epoch nanoseconds of an ISO 8601 / RFC 3339 text (Feast's "2022-05-13 10:59:42.123456" without a zone is UTC). */
export function nanosFromIso(text: string): EpochNanos | undefined {
  const match = ISO.exec(text.trim());
  if (!match) return undefined;
  const [, date, time = "00:00:00", fraction = "", zone = "Z"] = match;
  const offset = zone === "Z" || zone === "z" || zone === "UTC" ? "Z" : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(`${date}T${time.length === 5 ? `${time}:00` : time}${offset}`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * NS_PER_MS + BigInt(fraction.padEnd(9, "0") || "0");
}

/**
 * Epoch nanoseconds from what rows and requests carry: a Date (ms), a number of epoch seconds, a
 * bigint of epoch microseconds (DuckDB's TIMESTAMP), or an ISO string with up to 9 fraction digits.
 */
export function toEpochNanos(value: unknown): EpochNanos {
  if (value instanceof Date) {
    if (!Number.isNaN(value.getTime())) return BigInt(value.getTime()) * NS_PER_MS;
  } else if (typeof value === "number") {
    if (Number.isFinite(value)) return nanosFromSeconds(value);
  } else if (typeof value === "bigint") {
    return value * NS_PER_US;
  } else if (typeof value === "string") {
    const nanos = nanosFromIso(value);
    if (nanos !== undefined) return nanos;
  }
  throw new TypeError(`${JSON.stringify(String(value))} is not a timestamp`);
}

function isoSeconds(nanos: EpochNanos): { head: string; fraction: number } {
  const { seconds, nanos: fraction } = timestampParts(nanos);
  return { head: new Date(Number(seconds) * 1000).toISOString().slice(0, 19), fraction };
}

/**
 * RFC 3339 as protobuf's JSON mapping prints a Timestamp (what Feast's feature server answers):
 * no fraction for whole seconds, else 3, 6 or 9 digits, whichever is exact.
 */
export function formatTimestamp(nanos: EpochNanos): string {
  const { head, fraction } = isoSeconds(nanos);
  if (fraction === 0) return `${head}Z`;
  const digits = String(fraction).padStart(9, "0");
  if (fraction % 1_000_000 === 0) return `${head}.${digits.slice(0, 3)}Z`;
  if (fraction % 1_000 === 0) return `${head}.${digits.slice(0, 6)}Z`;
  return `${head}.${digits}Z`;
}

/**
 * Python's str() of a UTC datetime, the form Feast's DynamoDB store writes to `event_ts`
 * ("2024-05-01 12:00:00.500000+00:00"; no fraction when the microseconds are 0). Python's datetime
 * holds microseconds, so nanos below that are truncated, as Feast truncates them.
 */
export function formatPythonDatetime(nanos: EpochNanos): string {
  const { head, fraction } = isoSeconds(nanos);
  const micros = Math.floor(fraction / 1000);
  return `${head.replace("T", " ")}${micros === 0 ? "" : `.${String(micros).padStart(6, "0")}`}+00:00`;
}
