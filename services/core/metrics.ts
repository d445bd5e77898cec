import { collectDefaultMetrics, Registry } from "prom-client";

/** A registry per service instance (tests start several in one process); default process metrics included. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}
