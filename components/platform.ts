import * as pulumi from "@pulumi/pulumi";
import { AwsFoundation } from "./aws";
import { GcpFoundation } from "./gcp";
import {
  ClusterAddons,
  DriftCheck,
  FeatureService,
  ImagePrepull,
  Keda,
  localClusterAccess,
  LocalStores,
  Materialization,
  Mesh,
  ModelServing,
  Monitoring,
  RuntimeConfig,
  TrackingServer,
  TrainingAdmission,
  TrainingJob,
  type TrainingTemplate,
} from "./k8s";
import type { PlatformSpec } from "../definition";
import { NAMESPACES } from "./names";
import type { CloudFoundation } from "./types";

export interface PlatformArgs {
  /** The resolved stack and the catalog it deploys (definition). */
  spec: PlatformSpec;
}

/**
 * The whole platform for one stack: the cloud layer (AWS, GCP, or an existing cluster for local)
 * hands cloud-neutral connections to the Kubernetes layer, which never asks which cloud it is on.
 */
export class Platform extends pulumi.ComponentResource {
  readonly foundation: CloudFoundation;
  readonly addons: ClusterAddons;
  readonly tracking?: TrackingServer;
  readonly features: FeatureService;
  readonly models: Record<string, ModelServing>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:index:Platform", name, {}, opts);
    const { stack, catalog } = args.spec;
    const parent = { parent: this };

    // Cloud layer: cluster, GPU pools, stores, buckets and workload identities.
    let foundation: CloudFoundation;
    let addons: ClusterAddons;
    if (stack.cloud === "local") {
      const cluster = localClusterAccess(stack);
      addons = new ClusterAddons(`${name}-addons`, { cluster, stack }, parent);
      // Its Secrets and StatefulSets live in the platform namespace the add-ons create.
      const stores = new LocalStores(
        `${name}-stores`,
        { stack, catalog },
        { parent: this, provider: addons.provider, dependsOn: [addons] },
      );
      foundation = { cluster, ...stores.connections, nodes: [] };
    } else {
      const cloud =
        stack.cloud === "aws"
          ? new AwsFoundation(`${name}-aws`, { stack, catalog }, parent)
          : new GcpFoundation(`${name}-gcp`, { stack, catalog }, parent);
      foundation = cloud;
      // No pod can start before its nodes: the whole Kubernetes layer hangs off the add-ons.
      addons = new ClusterAddons(`${name}-addons`, { cluster: cloud.cluster, stack }, { parent: this, dependsOn: cloud.nodes });
    }
    this.foundation = foundation;
    this.addons = addons;
    const k8s = { parent: this, provider: addons.provider, dependsOn: [addons] };

    // Operations layer: mesh, monitoring, tracking.
    const mesh = new Mesh(`${name}-mesh`, { stack, dependsOn: addons.criticalPodQuotas }, k8s);
    const meshReady = { ...k8s, dependsOn: [addons, mesh] };
    const monitoring = stack.monitoring.enabled ? new Monitoring(`${name}-monitoring`, { stack, catalog, mesh }, meshReady) : undefined;
    // KEDA scales the model versions; its chart's ServiceMonitors need the monitoring CRDs first.
    const keda = stack.autoscaling.keda
      ? new Keda(
          `${name}-keda`,
          { stack, catalog, namespace: NAMESPACES.keda, httpNamespace: stack.autoscaling.httpAddon ? NAMESPACES.kedaHttp : undefined },
          { ...k8s, dependsOn: [addons, mesh, ...(monitoring ? [monitoring] : [])] },
        )
      : undefined;
    // GPU nodes pull the runtimes' images as they join, before a model pod lands there.
    if (stack.nodePools.some((p) => p.role === "gpu")) new ImagePrepull(`${name}-prepull`, { stack, catalog }, k8s);
    // ScaledObjects need KEDA's CRDs.
    const modelsReady = keda ? { ...meshReady, dependsOn: [addons, mesh, keda] } : meshReady;
    if (stack.tracking.enabled) {
      this.tracking = new TrackingServer(
        `${name}-tracking`,
        {
          stack,
          database: foundation.trackingDatabase,
          artifacts: foundation.artifacts,
          serviceAccountAnnotations: foundation.identities.tracking,
        },
        meshReady,
      );
    }

    // Catalog layer: the same spec rendered for the services, then the services and models.
    const runtime = new RuntimeConfig(`${name}-runtime`, { stack, catalog }, meshReady);
    this.features = new FeatureService(
      `${name}-features`,
      {
        stack,
        catalog,
        runtime,
        online: foundation.online,
        offline: foundation.offline,
        serviceAccountAnnotations: foundation.identities.features,
      },
      meshReady,
    );
    new Materialization(
      `${name}-materialize`,
      { stack, catalog, runtime, online: foundation.online, offline: foundation.offline, artifacts: foundation.artifacts },
      meshReady,
    );
    this.models = {};
    const trainingTemplates: pulumi.Output<TrainingTemplate>[] = [];
    for (const model of Object.values(catalog.models)) {
      this.models[model.name] = new ModelServing(
        model.name,
        {
          stack,
          catalog,
          model,
          runtime,
          featuresUrl: this.features.url,
          serviceAccountAnnotations: foundation.identities.serving,
          // Prediction logs go where the cloud lets serving write them; models:/ URIs resolve through MLflow.
          predictionLogsUri: foundation.artifacts.predictionLogsUri,
          trackingUrl: this.tracking?.endpoint.url,
        },
        modelsReady,
      );
      new DriftCheck(
        `${model.name}-drift`,
        {
          stack,
          model,
          runtime,
          serviceAccountAnnotations: foundation.identities.drift,
          artifactsUri: foundation.artifacts.uri,
          predictionLogsUri: foundation.artifacts.predictionLogsUri,
        },
        meshReady,
      );
      if (model.training && this.tracking) {
        const training = new TrainingJob(
          `${model.name}-train`,
          {
            stack,
            model,
            runtime,
            trackingUrl: this.tracking.endpoint.url,
            featuresUrl: this.features.url,
            serviceAccountAnnotations: foundation.identities.training,
          },
          meshReady,
        );
        trainingTemplates.push(training.template);
      }
    }
    // RBAC lets the drift check create any Job in the serving namespace; admission narrows it to copies of these CronJobs.
    if (trainingTemplates.length) new TrainingAdmission("training-admission", { stack, templates: trainingTemplates }, meshReady);

    this.registerOutputs({
      clusterName: foundation.cluster.name,
      onlineStoreUrl: foundation.online.url,
      offlineStoreUrl: foundation.offline.url,
      artifactsUri: foundation.artifacts.uri,
      trackingUrl: this.tracking?.endpoint.url,
      featuresUrl: this.features.url,
      models: Object.keys(this.models),
    });
  }
}
