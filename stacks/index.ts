/**
 * The Pulumi program. `pulumi up` runs it under the real engine; `npm run plan` runs it under
 * mocks. It is the only place that reads `pulumi.Config`: components receive typed args.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Platform } from "../components/platform";
import { catalogForStack, listStacks, loadCatalog, OFFLINE_PLAN_ENV, parseStack, readYaml, stackFile } from "../definition";

const root = join(__dirname, "..");
const stackName = pulumi.getStack();
const config = new pulumi.Config();
// The shipped dev stacks carry placeholders the user must replace; only the offline plan accepts them.
const allowPlaceholders = process.env[OFFLINE_PLAN_ENV] === "1";
// The file, when present, only lends its line numbers to errors: the values are the engine's.
const file = stackFile(join(root, "stacks"), stackName);
const source = existsSync(file) ? readYaml(file, root) : undefined;
const stack = parseStack(config.getObject("platform"), stackName, `stacks/Pulumi.${stackName}.yaml`, source, { allowPlaceholders });
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
