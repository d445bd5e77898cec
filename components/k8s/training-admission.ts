import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackSpec } from "../../definition";
import { k8sLabels, workloadServiceAccount } from "../names";

/**
 * What the drift check may create. Its Role (training-job.ts) grants `create` on Jobs in the
 * models namespace, and RBAC cannot narrow `create` by name: resourceNames does not apply to
 * create. So a ValidatingAdmissionPolicy (admissionregistration.k8s.io/v1, GA in Kubernetes 1.30)
 * refuses every Job the drift ServiceAccount creates unless it is a copy of a training CronJob's
 * template: the CronJob's name as prefix, its ServiceAccount, its one container's image, and no
 * init or ephemeral containers that could run something else with that identity.
 */

/** One training CronJob's template, as far as admission checks it. */
export interface TrainingTemplate {
  /** The CronJob's name; Jobs made from it are named "<name>-<timestamp>" (jobFromCronJob). */
  cronJobName: string;
  image: string;
  serviceAccountName: string;
}

export interface AdmissionArgs {
  /** Namespace the Jobs are created in (the serving namespace). */
  namespace: string;
  /** The ServiceAccount that creates them (the drift check's). */
  creator: { namespace: string; name: string };
  templates: TrainingTemplate[];
}

/** The Kubernetes username of a ServiceAccount, as the API server sets request.userInfo.username. */
export const serviceAccountUser = (sa: { namespace: string; name: string }) => `system:serviceaccount:${sa.namespace}:${sa.name}`;

/** The CEL list literal of the allowed templates (JSON string literals are CEL string literals). */
function templatesLiteral(templates: TrainingTemplate[]): string {
  const items = templates.map(
    (t) =>
      `{"prefix": ${JSON.stringify(`${t.cronJobName}-`)}, "image": ${JSON.stringify(t.image)}, "serviceAccountName": ${JSON.stringify(t.serviceAccountName)}}`,
  );
  return `[${items.join(", ")}]`;
}

/** The CEL expression a Job must satisfy; `variables.pod` is the Job's pod template spec. */
export function templateMatchExpression(templates: TrainingTemplate[]): string {
  // No template: nothing is admissible (an empty list literal has no element type to check t.prefix against).
  if (templates.length === 0) return "false";
  return [
    `${templatesLiteral(templates)}.exists(t,`,
    "object.metadata.name.startsWith(t.prefix)",
    "&& has(variables.pod.serviceAccountName) && variables.pod.serviceAccountName == t.serviceAccountName",
    "&& size(variables.pod.containers) == 1 && variables.pod.containers.all(c, c.image == t.image)",
    "&& !has(variables.pod.initContainers) && !has(variables.pod.ephemeralContainers))",
  ].join(" ");
}

/** The policy and its binding (cluster-scoped objects), as plain manifests. */
export function trainingAdmission(args: AdmissionArgs, labels: Record<string, string> = {}) {
  const name = `${args.creator.name}-creates-only-training-jobs`;
  const policy = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    metadata: { name, labels },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.namespace } },
        resourceRules: [{ apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE"], resources: ["jobs"] }],
      },
      matchConditions: [
        { name: "created-by-creator", expression: `request.userInfo.username == ${JSON.stringify(serviceAccountUser(args.creator))}` },
      ],
      variables: [{ name: "pod", expression: "object.spec.template.spec" }],
      validations: [
        {
          expression: templateMatchExpression(args.templates),
          message: `${serviceAccountUser(args.creator)} may only create Jobs made from a training CronJob's template (${args.templates.map((t) => t.cronJobName).join(", ") || "none"}): its name prefix, ServiceAccount and image`,
          reason: "Forbidden",
        },
      ],
    },
  };
  const binding = {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    metadata: { name, labels },
    spec: { policyName: name, validationActions: ["Deny"] },
  };
  return { policy, binding };
}

export interface TrainingAdmissionArgs {
  stack: StackSpec;
  templates: pulumi.Input<TrainingTemplate>[];
}

/** The admission policy for the Jobs the drift check creates, over every training CronJob of the stack. */
export class TrainingAdmission extends pulumi.ComponentResource {
  constructor(name: string, args: TrainingAdmissionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:TrainingAdmission", name, {}, opts);
    const labels = { ...k8sLabels(args.stack), "app.kubernetes.io/component": "training" };
    const manifests = pulumi
      .all(args.templates)
      .apply((templates) =>
        trainingAdmission(
          { namespace: args.stack.serving.namespace, creator: workloadServiceAccount("drift", args.stack), templates },
          labels,
        ),
      );
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      `${name}-policy`,
      { metadata: manifests.policy.metadata, spec: manifests.policy.spec },
      { parent: this },
    );
    new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      `${name}-binding`,
      { metadata: manifests.binding.metadata, spec: manifests.binding.spec },
      { parent: this, dependsOn: [policy] },
    );
    this.registerOutputs({});
  }
}
