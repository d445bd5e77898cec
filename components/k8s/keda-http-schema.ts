import { z } from "zod";

/**
 * The schema of the KEDA HTTP add-on's HTTPScaledObject (http.keda.sh/v1alpha1), restated from
 * the add-on's CRD (config/crd/bases/http.keda.sh_httpscaledobjects.yaml, chart 0.10): no
 * @kubernetes-models package covers the add-on, and the plan must not let an unvalidated object
 * through. Exported as a model class with `validate()`, like the @kubernetes-models packages,
 * so stacks/plan/validate-k8s.ts loads it the same way.
 */
const int32 = z.number().int().min(-2147483648).max(2147483647);
const portRef = z
  .object({ port: int32.optional(), portName: z.string().optional(), service: z.string().min(1) })
  .strict()
  .refine((r) => (r.port === undefined) !== (r.portName === undefined), { message: "must define either the 'portName' or the 'port'" });

export const HttpScaledObjectSpec = z
  .object({
    hosts: z.array(z.string()).optional(),
    pathPrefixes: z.array(z.string()).optional(),
    headers: z.array(z.object({ name: z.string().min(1), value: z.string().optional() }).strict()).optional(),
    replicas: z.object({ min: int32.optional(), max: int32.optional() }).strict().optional(),
    scaleTargetRef: z
      .object({
        apiVersion: z.string().optional(),
        kind: z.string().optional(),
        name: z.string().optional(),
        port: int32.optional(),
        portName: z.string().optional(),
        service: z.string().min(1),
      })
      .strict()
      .refine((r) => (r.port === undefined) !== (r.portName === undefined), { message: "must define either the 'portName' or the 'port'" }),
    coldStartTimeoutFailoverRef: portRef.and(z.object({ timeoutSeconds: int32.optional() })).optional(),
    initialCooldownPeriod: int32.optional(),
    scaledownPeriod: int32.optional(),
    scalingMetric: z
      .object({
        concurrency: z.object({ targetValue: z.number().int().optional() }).strict().optional(),
        requestRate: z
          .object({ granularity: z.string().optional(), targetValue: z.number().int().optional(), window: z.string().optional() })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    targetPendingRequests: int32.optional(),
    timeouts: z.object({ conditionWait: z.string().optional(), responseHeader: z.string().optional() }).strict().optional(),
  })
  .strict();

const HttpScaledObjectShape = z
  .object({
    apiVersion: z.literal("http.keda.sh/v1alpha1"),
    kind: z.literal("HTTPScaledObject"),
    metadata: z.record(z.string(), z.unknown()),
    spec: HttpScaledObjectSpec,
  })
  .passthrough();

/** A model class in the shape of @kubernetes-models: `new HTTPScaledObject(data).validate()` throws on a bad object. */
export class HTTPScaledObject {
  constructor(private readonly data: unknown) {}
  validate(): void {
    const result = HttpScaledObjectShape.safeParse(this.data);
    if (!result.success) {
      const errors = result.error.issues.map((i) => ({ instancePath: `/${i.path.join("/")}`, message: i.message }));
      throw Object.assign(new Error(errors.map((e) => `${e.instancePath} ${e.message}`).join("; ")), { errors });
    }
  }
}
