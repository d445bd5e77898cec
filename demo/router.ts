import { createServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { VirtualServiceSpec } from "../components/k8s/routes";

/**
 * A local stand-in for the Istio sidecar: it evaluates the VirtualService spec that ModelServing
 * deploys (components/k8s/routes.ts: header routes first, then the weighted route, and the mirror
 * for a shadow), so the demo and the end-to-end test route with the very spec the cloud gets.
 */
export interface LocalMesh {
  url: string;
  /** Requests sent to each subset (live) and mirrored to each subset (shadow). */
  routed: Record<string, number>;
  mirrored: Record<string, number>;
  close(): Promise<void>;
}

function pick(route: NonNullable<VirtualServiceSpec["http"]>[number], random: () => number): string {
  const destinations = route.route ?? [];
  const total = destinations.reduce((n, d) => n + (d.weight ?? (destinations.length === 1 ? 100 : 0)), 0);
  let r = random() * total;
  for (const d of destinations) {
    r -= d.weight ?? (destinations.length === 1 ? 100 : 0);
    if (r < 0) return d.destination.subset ?? "";
  }
  return destinations[destinations.length - 1]?.destination.subset ?? "";
}

function matches(route: NonNullable<VirtualServiceSpec["http"]>[number], req: IncomingMessage): boolean {
  if (!route.match) return true;
  return route.match.some((m) =>
    Object.entries(m.headers ?? {}).every(([name, rule]) => {
      const value = req.headers[name.toLowerCase()];
      return typeof value === "string" && "exact" in rule && value === rule.exact;
    }),
  );
}

function forward(
  target: string,
  req: IncomingMessage,
  body: Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  const url = new URL(req.url ?? "/", target);
  return new Promise((resolve, reject) => {
    const out = request(url, { method: req.method, headers: { ...req.headers, ...headers, host: url.host }, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    out.on("timeout", () => out.destroy(new Error("upstream timed out")));
    out.on("error", reject);
    out.end(body);
  });
}

export async function startLocalMesh(
  spec: VirtualServiceSpec,
  subsets: Record<string, string>,
  random: () => number = Math.random,
): Promise<LocalMesh> {
  const routed: Record<string, number> = {};
  const mirrored: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const route = (spec.http ?? []).find((r) => matches(r, req));
      if (!route) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "no route matched" }));
        return;
      }
      const subset = pick(route, random);
      const target = subsets[subset];
      if (!target) {
        res.writeHead(503, { "content-type": "application/json" }).end(JSON.stringify({ error: `no upstream for subset ${subset}` }));
        return;
      }
      routed[subset] = (routed[subset] ?? 0) + 1;
      const mirror = route.mirror?.subset;
      if (mirror && subsets[mirror] && random() * 100 < (route.mirrorPercentage?.value ?? 100)) {
        mirrored[mirror] = (mirrored[mirror] ?? 0) + 1;
        // Istio mirrors fire-and-forget, with "-shadow" appended to the Host; answers are discarded.
        forward(subsets[mirror] as string, req, body, { "x-shadow": "true" }).catch(() => {});
      }
      try {
        const answer = await forward(target, req, body, {});
        res.writeHead(answer.status, answer.headers).end(answer.body);
      } catch (error) {
        res
          .writeHead(503, { "content-type": "application/json" })
          .end(JSON.stringify({ error: `upstream ${subset} failed: ${(error as Error).message}` }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, routed, mirrored, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
