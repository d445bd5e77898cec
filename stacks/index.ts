/**
 * The Pulumi program. `pulumi up` runs it under the real engine; `npm run plan` runs it under
 * mocks. It is the only place that reads `pulumi.Config`: components receive typed args.
 */
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Platform } from "../components/platform";
import { catalogForStack, listStacks, loadCatalog, parseStack } from "../definition";

const root = join(__dirname, "..");
const stackName = pulumi.getStack();
const config = new pulumi.Config();
const stack = parseStack(config.getObject("platform"), stackName, `stacks/Pulumi.${stackName}.yaml`);
const catalog = catalogForStack(
  loadCatalog(join(root, "catalog"), stack.featureStore.project, stack),
  stack,
  listStacks(join(root, "stacks")),
);

const platform = new Platform("mlops", { spec: { stack, catalog } });

export const clusterName = platform.foundation.cluster.name;
export const kubeconfig = pulumi.secret(platform.foundation.cluster.kubeconfig);
export const onlineStoreUrl = platform.foundation.online.url;
export const offlineStoreUrl = platform.foundation.offline.url;
export const featuresUrl = platform.features.url;
export const trackingUrl = platform.tracking?.endpoint.url;
export const models = Object.keys(platform.models);
