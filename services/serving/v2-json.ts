import { isInteger, isSafeNumber, parse as parseLossless, stringify as stringifyLossless } from "lossless-json";
import { HttpError } from "../core";
import type { InferenceRequest, InferenceResponse } from "./v2-types";

/**
 * JSON for V2 bodies with exact 64-bit integers. JSON.parse turns 2^63-1 into a rounded double;
 * lossless-json keeps every integer literal that a double cannot hold as a bigint. It is several
 * times slower than JSON.parse, so it runs only on bodies that hold such a literal: an integer of
 * 16 or more digits (every integer of 15 digits or fewer is exact as a double).
 */
const LONG_INTEGER = /(?<![\d.eE+-])-?\d{16,}(?![\d.eE])/;

function parseNumber(text: string): number | bigint {
  return isInteger(text) && !isSafeNumber(text) ? BigInt(text) : Number.parseFloat(text);
}

/** Parses a request body; invalid JSON (or nesting beyond the parser's stack) is a 400 saying so. */
export function parseV2Json(text: string): unknown {
  try {
    return LONG_INTEGER.test(text) ? parseLossless(text, null, parseNumber) : JSON.parse(text);
  } catch (error) {
    if (error instanceof RangeError)
      throw new HttpError(400, "request body nests arrays or objects too deeply to parse; send tensor data flat");
    throw new HttpError(400, `request body is not valid JSON: ${(error as Error).message}`);
  }
}

function hasBigInt(data: unknown): boolean {
  if (typeof data === "bigint") return true;
  if (!Array.isArray(data)) return false;
  for (const v of data) if (typeof v === "bigint" || (Array.isArray(v) && hasBigInt(v))) return true;
  return false;
}

/** Writes a request or response; bigint elements (only 64-bit tensors hold them) are written as exact integer literals. */
export function stringifyV2(body: InferenceResponse | InferenceRequest): string {
  const tensors: Array<{ datatype: string; data?: unknown }> =
    "outputs" in body && !("inputs" in body) ? body.outputs : ((body as InferenceRequest).inputs ?? []);
  const exact = tensors.some((t) => (t.datatype === "INT64" || t.datatype === "UINT64") && hasBigInt(t.data));
  return exact ? (stringifyLossless(body) as string) : JSON.stringify(body);
}
