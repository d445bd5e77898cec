import type { PolicyResource } from "@pulumi/policy";
import { type Catalog, checkCatalog, type StackSpec, trafficOf } from "../definition";
import { isKind, objectMeta } from "./kubernetes";
import { safeProp } from "./links";
import { asArray, asRecord, facts, get, type PlatformPolicy, violation } from "./support";

/**
 * Catalog rules: the spec's own cross-checks re-run on the catalog the plan deployed, and the
 * Istio objects checked against each other and against the catalog, so a change made outside
 * the catalog (a hand-edited VirtualService, a component bug) is caught too.
 */

const NETWORKING = "networking.istio.io";

export const catalogConsistent: PlatformPolicy = {
  area: "catalog",
  name: "catalog-consistent",
  description:
    "The catalog passes the spec's cross-checks (features exist, weights sum to 100, images pinned, GPU models have a GPU pool, ...).",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: {
      catalog: { type: "object", description: "The merged catalog (definition Catalog), written by policies/config.ts." },
      stack: { type: "object", description: "The resolved stack spec (definition StackSpec), written by policies/config.ts." },
    },
  },
  validateStack: (args, report) => {
    const { catalog, stack } = args.getConfig<{ catalog?: Catalog; stack?: StackSpec }>();
    if (!catalog) return args.notApplicable("no catalog in the policy config (write it with policyPackConfig from policies/config.ts)");
    for (const issue of checkCatalog(catalog, stack)) {
      report(violation(`${issue.file}: ${issue.path}`, issue.message, issue.fix ?? "see the catalog documentation"));
    }
  },
};

interface Route {
  label: string;
  destinations: { host: string; subset?: string; weight?: number }[];
  mirror?: { host: string; subset?: string };
  /** A redirect or directResponse route: Istio sends it nowhere. */
  answersItself: boolean;
}

function routesOf(props: Record<string, unknown>): Route[] {
  return asArray(get(props, "spec", "http")).map((route, i) => {
    const mirror = get(route, "mirror");
    return {
      label: `route ${String(get(route, "name") ?? `#${i}`)}`,
      destinations: asArray(get(route, "route")).map((d) => {
        const weight = get(d, "weight");
        return {
          host: String(get(d, "destination", "host")),
          subset: get(d, "destination", "subset") as string | undefined,
          weight: typeof weight === "number" ? weight : undefined,
        };
      }),
      mirror: mirror ? { host: String(get(mirror, "host")), subset: get(mirror, "subset") as string | undefined } : undefined,
      answersItself: get(route, "redirect") !== undefined || get(route, "directResponse") !== undefined,
    };
  });
}

export const virtualServiceWeightsSumTo100: PlatformPolicy = {
  area: "catalog",
  name: "virtualservice-weights-sum-to-100",
  description: "In every VirtualService HTTP route that splits traffic, the destination weights sum to 100.",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateResource: (args, report) => {
    if (!isKind(args.type, NETWORKING, "VirtualService")) return args.notApplicable("not a VirtualService");
    const { ref } = objectMeta(args.props, args.name);
    for (const route of routesOf(args.props)) {
      const weighted = route.destinations.filter((d) => d.weight !== undefined);
      // Istio: a single destination may omit its weight (it gets 100); a route that redirects or
      // answers itself has no destinations.
      if ((route.destinations.length === 1 && weighted.length === 0) || route.answersItself) continue;
      const total = route.destinations.reduce((sum, d) => sum + (d.weight ?? 0), 0);
      if (route.destinations.length === 0) {
        report(
          violation(
            `VirtualService "${ref}"`,
            `${route.label} has no destinations`,
            "route to at least one version (a version with weight > 0 in the model's catalog file)",
          ),
        );
      } else if (total !== 100) {
        const parts = route.destinations.map((d) => `${d.subset ?? d.host}=${d.weight ?? 0}`).join(", ");
        report(
          violation(
            `VirtualService "${ref}"`,
            `${route.label} weights sum to ${total} (${parts})`,
            "make the weights sum to 100 (versions[].weight in the model's catalog file)",
          ),
        );
      }
    }
  },
};

/**
 * A host as Istio resolves it from the object's namespace: only a name without a dot is a short
 * name (a Service of that namespace); "svc.ns" and wildcards are taken as written.
 */
export function qualifyHost(host: string, namespace: string): string {
  return host === "*" || host.includes(".") ? host : `${host}.${namespace}.svc.cluster.local`;
}

function destinationSubsets(rules: PolicyResource[]): Map<string, Set<string>> {
  const byHost = new Map<string, Set<string>>();
  for (const rule of rules) {
    const { namespace } = objectMeta(asRecord(rule.props), rule.name);
    const host = qualifyHost(String(get(safeProp(rule, "spec"), "host")), namespace);
    const subsets = byHost.get(host) ?? new Set<string>();
    for (const s of asArray(get(safeProp(rule, "spec"), "subsets"))) subsets.add(String(get(s, "name")));
    byHost.set(host, subsets);
  }
  return byHost;
}

export const virtualServiceSubsetsExist: PlatformPolicy = {
  area: "catalog",
  name: "virtualservice-subsets-exist",
  description: "Every subset a VirtualService routes or mirrors to is defined by a DestinationRule for that host (else Envoy returns 503).",
  enforcementLevel: "mandatory",
  configSchema: { properties: {} },
  validateStack: (args, report) => {
    const services = args.resources.filter((r) => isKind(r.type, NETWORKING, "VirtualService"));
    if (services.length === 0) args.notApplicable("no VirtualServices in the stack");
    const subsets = destinationSubsets(args.resources.filter((r) => isKind(r.type, NETWORKING, "DestinationRule")));
    for (const vs of services) {
      const { ref, namespace } = objectMeta(asRecord(vs.props), vs.name);
      for (const route of routesOf(asRecord(vs.props))) {
        const targets = [
          ...route.destinations.map((d) => ({ ...d, how: "routes" })),
          ...(route.mirror ? [{ ...route.mirror, how: "mirrors" }] : []),
        ];
        for (const t of targets) {
          if (!t.subset) continue;
          const host = qualifyHost(t.host, namespace);
          const known = subsets.get(host);
          if (!known?.has(t.subset)) {
            const have = known
              ? `its DestinationRule defines ${[...known].join(", ") || "no subsets"}`
              : `no DestinationRule exists for ${host}`;
            report(
              violation(
                `VirtualService "${ref}"`,
                `${route.label} ${t.how} to subset "${t.subset}" of ${host}, but ${have}`,
                `add subset "${t.subset}" to the DestinationRule of ${host} (one subset per version in the model's catalog file)`,
              ),
              vs.urn,
            );
          }
        }
      }
    }
  },
};

export const virtualServiceMatchesCatalog: PlatformPolicy = {
  area: "catalog",
  name: "virtualservice-matches-catalog",
  description:
    "Each catalog model's VirtualService sends exactly the weights its catalog file declares, so traffic cannot be changed outside the catalog.",
  enforcementLevel: "mandatory",
  configSchema: {
    properties: { catalog: catalogConsistent.configSchema?.properties.catalog ?? {}, servingNamespace: facts.servingNamespace },
  },
  validateStack: (args, report) => {
    const { catalog, servingNamespace } = args.getConfig<{ catalog?: Catalog; servingNamespace: string }>();
    if (!catalog || Object.keys(catalog.models).length === 0) return args.notApplicable("no models in the policy config's catalog");
    const services = args.resources.filter(
      (r) => isKind(r.type, NETWORKING, "VirtualService") && objectMeta(asRecord(r.props), r.name).namespace === servingNamespace,
    );
    for (const model of Object.values(catalog.models)) {
      const host = `${model.name}.${servingNamespace}.svc.cluster.local`;
      const vs = services.find((s) =>
        asArray(get(safeProp(s, "spec"), "hosts")).some((h) => qualifyHost(String(h), servingNamespace) === host),
      );
      const subject = `model "${model.name}" (${model.origin.file})`;
      if (!vs) {
        report(
          violation(
            subject,
            `has no VirtualService for ${host} in namespace ${servingNamespace}`,
            "deploy it through ModelServing, which renders the routes from the catalog",
          ),
        );
        continue;
      }
      const want = Object.fromEntries(trafficOf(model).weighted.map((w) => [w.version, w.weight]));
      // The split routes are the one without a match (HTTP) and those that match only a port (gRPC);
      // header-override routes come before them. Each protocol must send the catalog's weights.
      const splits = asArray(get(safeProp(vs, "spec"), "http")).filter((r) => {
        const match = get(r, "match");
        return match === undefined || asArray(match).every((m) => Object.keys(asRecord(m)).every((k) => k === "port"));
      });
      const gotOf = (split: unknown): Record<string, number> => {
        const got: Record<string, number> = {};
        for (const d of asArray(get(split, "route"))) {
          const subset = String(get(d, "destination", "subset"));
          got[subset] = (got[subset] ?? 0) + Number(get(d, "weight") ?? (asArray(get(split, "route")).length === 1 ? 100 : 0));
        }
        return got;
      };
      const show = (w: Record<string, number>) =>
        Object.entries(w)
          .map(([k, v]) => `${k}=${v}`)
          .sort()
          .join(", ") || "none";
      for (const split of splits.length ? splits : [undefined]) {
        const got = gotOf(split);
        if (show(want) === show(got)) continue;
        const which = get(split, "match") === undefined ? "" : ` on port ${String(get(asArray(get(split, "match"))[0], "port"))}`;
        report(
          violation(
            `VirtualService "${objectMeta(asRecord(vs.props), vs.name).ref}"`,
            `sends ${show(got)}${which}, but ${model.origin.file} declares ${show(want)}`,
            "change weights in the catalog file, not in the VirtualService",
          ),
          vs.urn,
        );
      }
    }
  },
};

export const catalogPolicies: PlatformPolicy[] = [
  catalogConsistent,
  virtualServiceWeightsSumTo100,
  virtualServiceSubsetsExist,
  virtualServiceMatchesCatalog,
];
