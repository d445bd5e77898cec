import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { k8sLabels, NAMESPACES, type Workload, workloadServiceAccount } from "../names";
import { type Catalog, renderRuntimeFiles, type StackSpec } from "../../definition";

/** Where the services find the catalog inside their pods (the features service's CATALOG default). */
export const CATALOG_MOUNT = "/etc/mlops/catalog";
/** Name of the catalog ConfigMap, the same in every namespace that runs a platform service. */
export const CATALOG_CONFIG_MAP = "mlops-catalog";
/** Kubernetes refuses objects over 1 MiB; keep headroom for metadata. */
export const MAX_CONFIG_BYTES = 1_000_000;
/** Pod annotation holding the catalog checksum, so a catalog change rolls the pods that read it. */
export const CATALOG_CHECKSUM_ANNOTATION = "mlops.platform/catalog-checksum";

/**
 * The files of the runtime config, rendered from the same merged catalog Pulumi deploys:
 * `registry.json` (the feature registry), `models.json` (the model catalog, with SLOs, drift
 * thresholds and traffic) and `project` (the Feast project, part of every online key).
 * The services read them back with `loadCatalog` / `readRuntimeCatalog` (definition).
 */
export function renderRuntimeConfig(stack: StackSpec, catalog: Catalog): Record<string, string> {
  return renderRuntimeFiles(catalog, stack);
}

/** A short digest of the rendered config. */
export function runtimeConfigChecksum(data: Record<string, string>): string {
  const hash = createHash("sha256");
  for (const key of Object.keys(data).sort())
    hash
      .update(key)
      .update("\0")
      .update(data[key] as string)
      .update("\0");
  return hash.digest("hex").slice(0, 16);
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
  private readonly stack: StackSpec;
  private readonly baseName: string;
  private readonly serviceAccounts = new Map<string, k8s.core.v1.ServiceAccount>();

  constructor(name: string, args: RuntimeConfigArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:RuntimeConfig", name, {}, opts);
    this.stack = args.stack;
    this.baseName = name;
    this.data = renderRuntimeConfig(args.stack, args.catalog);
    const bytes = Object.values(this.data).reduce((n, text) => n + Buffer.byteLength(text), 0);
    if (bytes > MAX_CONFIG_BYTES) {
      throw new Error(
        `the rendered catalog is ${(bytes / 1e6).toFixed(2)} MB, over the ${MAX_CONFIG_BYTES / 1e6} MB a ConfigMap can hold; split the catalog across stacks (models' stacks: field) or shorten descriptions`,
      );
    }
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

  /**
   * The ServiceAccount a workload's pods run as, shared by every model (serving) or every drift
   * check (drift): the cloud layer binds one identity to exactly `<namespace>/<workload>`
   * (components/names.ts), so the name cannot be per model. Created on first use, as a child of
   * this component, so its URN does not depend on which model asked first.
   */
  serviceAccountFor(
    workload: Extract<Workload, "serving" | "drift" | "training">,
    annotations: pulumi.Input<Record<string, string>>,
  ): k8s.core.v1.ServiceAccount {
    const existing = this.serviceAccounts.get(workload);
    if (existing) return existing;
    const account = new k8s.core.v1.ServiceAccount(
      `${this.baseName}-${workload}-sa`,
      {
        metadata: {
          ...workloadServiceAccount(workload, this.stack),
          labels: { ...k8sLabels(this.stack), "app.kubernetes.io/component": workload },
          annotations,
        },
        automountServiceAccountToken: false,
      },
      { parent: this },
    );
    this.serviceAccounts.set(workload, account);
    return account;
  }
}
