import type { EnforcementLevel, ResourceValidationArgs } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { type Container, exceptionFor, exceptionsSchema, type PodWorkload, type PolicyException, podWorkload } from "./kubernetes";
import type { PlatformPolicy, PolicyArea } from "./support";

/**
 * A policy over the pods of every workload kind (Pod, Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, Job, CronJob), with the exception allowlist applied in one place.
 */

export interface PodRuleContext {
  workload: PodWorkload;
  /** Reports one violation; `problem` and `fix` become "<kind> "<ns/name>"[ container "<c>"]: <problem>. Fix: <fix>". */
  report(problem: string, fix: string, container?: Container): void;
  /** The granted exception, when the workload holds one for this policy. */
  exception?: PolicyException;
  config: Record<string, unknown>;
  args: ResourceValidationArgs;
}

export interface PodRuleArgs {
  name: string;
  description: string;
  area: PolicyArea;
  enforcementLevel?: EnforcementLevel;
  devEnforcementLevel?: EnforcementLevel;
  /** Whether an allowlisted exception can waive this rule (restricted-profile rules only). */
  exceptable?: boolean;
  configProperties?: Record<string, PolicyConfigJSONSchema>;
  check(context: PodRuleContext): void;
}

export function podRule(rule: PodRuleArgs): PlatformPolicy {
  const properties: Record<string, PolicyConfigJSONSchema> = { ...rule.configProperties };
  if (rule.exceptable) properties.exceptions = exceptionsSchema;
  return {
    area: rule.area,
    name: rule.name,
    description: rule.description,
    enforcementLevel: rule.enforcementLevel ?? "mandatory",
    devEnforcementLevel: rule.devEnforcementLevel,
    configSchema: { properties },
    validateResource: (args, reportViolation) => {
      const workload = podWorkload(args.type, args.props, args.name);
      if (!workload) return args.notApplicable("not a Kubernetes workload with a pod template");
      const config = args.getConfig<Record<string, unknown>>();
      const exception = rule.exceptable
        ? exceptionFor(workload, rule.name, (config.exceptions ?? {}) as Record<string, PolicyException>)
        : {};
      rule.check({
        workload,
        exception: exception.granted,
        config,
        args,
        report(problem, fix, container) {
          const where = container ? ` container "${container.name}"` : "";
          const refused = exception.refused ? ` (${exception.refused})` : "";
          reportViolation(`${workload.kind} "${workload.ref}"${where}: ${problem}${refused}. Fix: ${fix}`);
        },
      });
    },
  };
}
