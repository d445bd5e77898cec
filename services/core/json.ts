import { isInteger, isSafeNumber, parse, stringify } from "lossless-json";

/**
 * JSON with exact 64-bit integers. JSON.parse turns 9007199254740993 into 9007199254740992, so a
 * request for one entity would read another's row; Feast's clients send and expect plain JSON
 * numbers. So: an integer literal beyond Number.MAX_SAFE_INTEGER becomes a bigint (every other
 * number stays a JS number), and a bigint is written back as the same bare digits.
 */

/** A run of 16+ digits is the only way to write an integer JSON.parse would round: below that, take the fast parser. */
const LONG_DIGITS = /\d{16}/;

function parseNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number.parseFloat(text);
}

/** Parses JSON text; unsafe integers come back as bigint. A repeated key keeps its last value, as JSON.parse and Python's json do. */
export function parseJson(text: string): unknown {
  if (!LONG_DIGITS.test(text)) return JSON.parse(text);
  return parse(text, null, { parseNumber, onDuplicateKey: ({ newValue }) => newValue });
}

/** Serialises a value; bigints are written as JSON numbers with all their digits. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (error) {
    // JSON.stringify refuses bigint; only then pay for the lossless writer (the common answer has none).
    if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
    return stringify(value) as string;
  }
}
