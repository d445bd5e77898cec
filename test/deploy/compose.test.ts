import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { composeAssets } from "../../scripts/gen-compose-assets";

const root = resolve(__dirname, "../..");
interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  user?: string;
  read_only?: boolean;
}
const compose = parse(readFileSync(join(root, "docker-compose.yml"), "utf8"), { merge: true }) as {
  services: Record<string, ComposeService>;
};
const OURS = ["features", "serving", "drift"] as const;

/** The environment twins a command reads, from its own `--help` (each flag prints `[env NAME]`). */
function envTwins(service: string, subcommand: string): string[] {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "services", service, "main.ts"), subcommand, "--help"], {
    cwd: root,
    encoding: "utf8",
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return [...r.stdout.matchAll(/\[env ([A-Z0-9_]+)\]/g)].map((m) => m[1] as string);
}

describe("docker-compose.yml", () => {
  it("runs Redis, PostgreSQL, MLflow, the three services, Prometheus and Grafana", () => {
    expect(Object.keys(compose.services).sort()).toEqual([
      "drift",
      "features",
      "grafana",
      "mlflow",
      "postgres",
      "prometheus",
      "redis",
      "serving",
    ]);
  });

  it("pins every image to a version", () => {
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.image, name).toMatch(/^[\w./-]+:v?\d[\w.-]*$/);
    }
  });

  it.each(OURS)("%s runs a compiled entry point of this repository, non-root and read-only", (name) => {
    const s = compose.services[name] as ComposeService;
    expect(s.build).toBe(".");
    const entry = s.command?.[0] as string;
    expect(entry).toBe(`dist/services/${name}/main.js`);
    expect(existsSync(join(root, entry.replace(/^dist\//, "").replace(/\.js$/, ".ts")))).toBe(true);
    expect(s.user).toBe("10001:10001");
    expect(s.read_only).toBe(true);
  });

  it.each(OURS)("every variable given to %s is one the code reads, and its port is the one it listens on", (name) => {
    const s = compose.services[name] as ComposeService;
    const subcommand = s.command?.[1] as string;
    const twins = envTwins(name, subcommand);
    for (const key of Object.keys(s.environment ?? {})) expect(twins, `${name} does not read ${key}`).toContain(key);
    const port = s.environment?.PORT;
    expect(port).toBeDefined();
    expect(s.ports).toContain(`${port}:${port}`);
  });

  it("Prometheus scrapes each service on the port it listens on", () => {
    const prom = parse(readFileSync(join(root, "deploy/compose/prometheus/prometheus.yml"), "utf8")) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    for (const name of OURS) {
      const job = prom.scrape_configs.find((j) => j.job_name === name);
      expect(job?.static_configs[0]?.targets).toEqual([`${name}:${compose.services[name]?.environment?.PORT}`]);
    }
  });

  it("the serving service's features URL points at the features service", () => {
    expect(compose.services.serving?.environment?.FEATURES).toBe(`http://features:${compose.services.features?.environment?.PORT}`);
  });

  it("mounts the alert rules and dashboards of the monitoring component, up to date", () => {
    const assets = composeAssets();
    for (const [path, content] of Object.entries(assets)) {
      expect(readFileSync(join(root, "deploy/compose", path), "utf8"), `${path} is stale: run npx tsx scripts/gen-compose-assets.ts`).toBe(
        content,
      );
    }
    expect(Object.keys(assets).filter((p) => p.startsWith("grafana/dashboards/")).length).toBeGreaterThanOrEqual(2);
    const grafana = compose.services.grafana as ComposeService;
    const provider = parse(readFileSync(join(root, "deploy/compose/grafana/provisioning/dashboards/mlops.yml"), "utf8")) as {
      providers: { options: { path: string } }[];
    };
    expect(grafana.volumes).toContain(`./deploy/compose/grafana/dashboards:${provider.providers[0]?.options.path}:ro`);
  });
});
