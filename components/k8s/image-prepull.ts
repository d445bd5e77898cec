import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { type Catalog, deploysTo, type StackSpec } from "../../definition";
import { k8sLabels, NAMESPACES } from "../names";
import { gpuNodePlacement } from "./gpu-device-plugin";
import { container, jobContainer, podSecurityContext } from "./workload";

/**
 * Pulls the GPU runtimes' images onto every GPU node as soon as it joins, before a model pod is
 * scheduled there: the pull (minutes for a 10+ GB vLLM or Triton image) then overlaps the node's
 * start-up instead of the replica's cold start. One init container per image does nothing but
 * exist (`true`); the pod then sleeps so the DaemonSet stays Ready and the images stay in use,
 * which keeps the kubelet's image garbage collection from removing them.
 */

/** The distinct runtime images of the GPU versions deployed to the stack, sorted (stable pod spec). */
export function prepullImages(stack: StackSpec, catalog: Catalog): string[] {
  const images = new Set<string>();
  for (const model of Object.values(catalog.models)) {
    if (!deploysTo(model, stack.name)) continue;
    for (const v of model.versions) if (v.gpu && v.image) images.add(v.image);
  }
  return [...images].sort();
}

export interface ImagePrepullArgs {
  stack: StackSpec;
  catalog: Catalog;
}

export class ImagePrepull extends pulumi.ComponentResource {
  readonly daemonSet?: k8s.apps.v1.DaemonSet;

  constructor(name: string, args: ImagePrepullArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:ImagePrepull", name, {}, opts);
    const images = prepullImages(args.stack, args.catalog);
    const [first] = images;
    if (first) {
      const selector = { "app.kubernetes.io/name": "runtime-image-prepull" };
      const labels = { ...k8sLabels(args.stack), ...selector };
      const tiny = { cpu: "10m", memory: "16Mi", memoryLimit: "32Mi" };
      this.daemonSet = new k8s.apps.v1.DaemonSet(
        "runtime-image-prepull",
        {
          metadata: { name: "runtime-image-prepull", namespace: NAMESPACES.gpu, labels },
          spec: {
            selector: { matchLabels: selector },
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "100%" } },
            template: {
              metadata: { labels },
              spec: {
                automountServiceAccountToken: false,
                securityContext: podSecurityContext(),
                ...gpuNodePlacement(),
                initContainers: images.map((image, i) => jobContainer({ name: `pull-${i}`, image, command: ["true"], resources: tiny })),
                containers: [
                  container({
                    name: "hold",
                    image: first,
                    command: ["sleep", "infinity"],
                    resources: tiny,
                    probe: { exec: ["true"] },
                  }),
                ],
                terminationGracePeriodSeconds: 5,
              },
            },
          },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ images });
  }
}
