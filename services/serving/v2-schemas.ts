import { V2Datatype } from "./v2-types";

/**
 * JSON schemas of the Open Inference Protocol REST payloads (open_inference_rest.yaml). Fastify
 * validates requests with them (400 with the failing path) and serialises fixed-shape responses.
 * The body is parsed by v2-routes.ts (JSON, or Triton's binary extension), then validated here.
 * Tensor `data` is only checked to be an array here: walking a million elements through a
 * recursive anyOf costs more than the inference; tensor.ts checks elements while copying them.
 */

/**
 * $parameters: "an object whose values are strings, numbers or booleans" (inference_rest.md,
 * Parameters). A type list, not anyOf: fastify's ajv coerces types, and under anyOf it would turn
 * `true` into "true" to match the first branch; with a list, a value of a listed type is kept.
 */
const parameters = { type: "object", additionalProperties: { type: ["string", "number", "boolean"] } } as const;
const errorResponse = { type: "object", properties: { error: { type: "string" } }, required: ["error"] } as const;

const metadataTensor = {
  type: "object",
  properties: { name: { type: "string" }, datatype: { type: "string" }, shape: { type: "array", items: { type: "integer" } } },
  required: ["name", "datatype", "shape"],
} as const;

export const modelParams = {
  type: "object",
  properties: { name: { type: "string", minLength: 1 }, version: { type: "string", minLength: 1 } },
  required: ["name"],
} as const;

export const serverMetadataSchema = {
  response: {
    200: {
      type: "object",
      properties: { name: { type: "string" }, version: { type: "string" }, extensions: { type: "array", items: { type: "string" } } },
      required: ["name", "version", "extensions"],
    },
  },
} as const;

export const liveSchema = { response: { 200: { type: "object", properties: { live: { type: "boolean" } }, required: ["live"] } } } as const;

export const readySchema = {
  response: {
    200: { type: "object", properties: { ready: { type: "boolean" } }, required: ["ready"] },
    503: { type: "object", properties: { ready: { type: "boolean" }, error: { type: "string" } }, required: ["ready", "error"] },
  },
} as const;

export const modelReadySchema = {
  params: modelParams,
  response: {
    200: { type: "object", properties: { name: { type: "string" }, ready: { type: "boolean" } }, required: ["name", "ready"] },
    503: {
      type: "object",
      properties: { name: { type: "string" }, ready: { type: "boolean" }, error: { type: "string" } },
      required: ["name", "ready", "error"],
    },
  },
} as const;

export const modelMetadataSchema = {
  params: modelParams,
  response: {
    200: {
      type: "object",
      properties: {
        name: { type: "string" },
        versions: { type: "array", items: { type: "string" } },
        platform: { type: "string" },
        inputs: { type: "array", items: metadataTensor },
        outputs: { type: "array", items: metadataTensor },
      },
      required: ["name", "platform", "inputs", "outputs"],
    },
    "4xx": errorResponse,
    "5xx": errorResponse,
  },
} as const;

export const inferSchema = {
  params: modelParams,
  body: {
    type: "object",
    properties: {
      id: { type: "string" },
      parameters,
      inputs: {
        type: "array",
        minItems: 1,
        items: {
          type: "object",
          properties: {
            name: { type: "string", minLength: 1 },
            shape: { type: "array", items: { type: "integer", minimum: 0 } },
            datatype: { type: "string", enum: V2Datatype },
            parameters,
            data: { type: "array" },
          },
          // "data" may be absent when parameters.binary_data_size says the tensor follows the JSON as bytes.
          required: ["name", "shape", "datatype"],
        },
      },
      outputs: {
        type: "array",
        items: { type: "object", properties: { name: { type: "string", minLength: 1 }, parameters }, required: ["name"] },
      },
    },
    required: ["inputs"],
  },
} as const;
