import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES } from "../names";
import type { Catalog, StackSpec } from "../spec";

/** Where the services find the catalog inside their pods (the features service's CATALOG default). */
export const CATALOG_MOUNT = "/etc/mlops/catalog";
/** Name of the catalog ConfigMap, the same in every namespace that runs a platform service. */
export const CATALOG_CONFIG_MAP = "mlops-catalog";
/** Pod annotation holding the catalog checksum, so a catalog change rolls the pods that read it. */
export const CATALOG_CHECKSUM_ANNOTATION = "mlops.platform/catalog-checksum";

/**
 * The files of the runtime config, rendered from the same merged catalog Pulumi deploys:
 * `registry.json` (the feature registry), `models.json` (the model catalog, with SLOs, drift
 * thresholds and traffic) and `project` (the Feast project, part of every online key).
 * Keys are sorted so the same catalog always renders the same bytes (and the same checksum).
 */
export function renderRuntimeConfig(stack: StackSpec, catalog: Catalog): Record<string, string> {
  const registry = {
    project: stack.featureStore.project,
    entities: catalog.entities,
    featureViews: catalog.featureViews,
    featureServices: catalog.featureServices,
    pushSources: catalog.pushSources,
  };
  return {
    "registry.json": stableJson(registry),
    "models.json": stableJson({ project: stack.featureStore.project, stack: stack.name, models: catalog.models }),
    project: stack.featureStore.project,
  };
}

/** A short digest of the rendered config. */
export function runtimeConfigChecksum(data: Record<string, string>): string {
  return createHash("sha256").update(stableJson(data)).digest("hex").slice(0, 16);
}

function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export interface RuntimeConfigArgs {
  /** The resolved stack: its model namespace and feature store project. */
  stack: StackSpec;
  /** The merged catalog for this stack. */
  catalog: Catalog;
}

/**
 * The catalog as the services read it: one ConfigMap in the platform namespace (features,
 * drift, materialization) and one in the models namespace (serving), both rendered from the
 * same spec, so what Pulumi deploys and what the services run cannot disagree.
 */
export class RuntimeConfig extends pulumi.ComponentResource {
  /** The ConfigMap per namespace, keyed by namespace name. */
  readonly configMaps: Record<string, k8s.core.v1.ConfigMap>;
  /** The ConfigMap in the platform namespace (features service, materialization, drift checks). */
  readonly registryConfigMap: { name: pulumi.Output<string> };
  /** The ConfigMap in the models namespace (model serving pods). */
  readonly modelsConfigMap: { name: pulumi.Output<string> };
  /** The rendered files (registry.json, models.json, project). */
  readonly data: Record<string, string>;
  /** Digest of the rendered files; pods carry it as an annotation so a catalog change rolls them. */
  readonly checksum: string;

  constructor(name: string, args: RuntimeConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:RuntimeConfig", name, {}, opts);
    this.data = renderRuntimeConfig(args.stack, args.catalog);
    this.checksum = runtimeConfigChecksum(this.data);
    const labels = { ...k8sLabels(args.stack), "app.kubernetes.io/component": "runtime-config" };
    this.configMaps = {};
    for (const namespace of new Set([NAMESPACES.platform, args.stack.serving.namespace])) {
      this.configMaps[namespace] = new k8s.core.v1.ConfigMap(
        `${name}-${namespace}`,
        {
          metadata: { name: CATALOG_CONFIG_MAP, namespace, labels, annotations: { [CATALOG_CHECKSUM_ANNOTATION]: this.checksum } },
          data: this.data,
        },
        { parent: this },
      );
    }
    this.registryConfigMap = { name: this.configMapIn(NAMESPACES.platform).metadata.name };
    this.modelsConfigMap = { name: this.configMapIn(args.stack.serving.namespace).metadata.name };
    this.registerOutputs({
      registryConfigMap: this.registryConfigMap.name,
      modelsConfigMap: this.modelsConfigMap.name,
      checksum: this.checksum,
    });
  }

  /** The catalog ConfigMap of a namespace this component rendered into. */
  configMapIn(namespace: string): k8s.core.v1.ConfigMap {
    const map = this.configMaps[namespace];
    if (!map)
      throw new Error(
        `RuntimeConfig has no ConfigMap in namespace "${namespace}"; it renders into ${Object.keys(this.configMaps).join(", ")}`,
      );
    return map;
  }

  /** A pod volume (and its mount) holding the catalog files at CATALOG_MOUNT. */
  volumeIn(namespace: string): { volume: k8s.types.input.core.v1.Volume; mount: k8s.types.input.core.v1.VolumeMount } {
    return {
      volume: { name: "catalog", configMap: { name: this.configMapIn(namespace).metadata.name } },
      mount: { name: "catalog", mountPath: CATALOG_MOUNT, readOnly: true },
    };
  }
}
