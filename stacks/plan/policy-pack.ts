import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import type { PlanResource } from "../../components/plan-resource";
import type { Catalog, StackSpec } from "../../definition";
import { configValues, policyPackConfig } from "../../policies/config";
import type { PolicyReport, PolicyViolation } from "../../policies/harness";
import { allPolicies } from "../../policies/policies";
import { splitFix } from "../../policies/support";
import { type CompileError, compileErrors, formatCompileError } from "./diagnostics";
import { serveMockEngine } from "./engine-server";
import { lookPath } from "./language-host";

/**
 * Runs the policy pack as `pulumi preview --policy-pack policies` does: a Node process on
 * `@pulumi/pulumi/cmd/run-policy-pack <engine> .` in policies/ (which registers ts-node with type
 * checking and policies/tsconfig.json), the port it prints on stdout, then the engine's Analyzer
 * calls over gRPC: ConfigureStack, Configure with the stack's policy config (policies/config.ts,
 * the same file `npm run policy-config` writes for the CLI), Analyze once per resource with its
 * inputs, AnalyzeStack once with every resource's outputs. The pack is @pulumi/policy's own server.
 */

type Msg = Record<string, (...a: unknown[]) => unknown>;
type Ctor = new () => Msg;

export interface PolicyPackRun extends PolicyReport {
  compileErrors: CompileError[];
  /** Set when the pack did not start or an Analyze call failed. */
  error?: string;
}

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;
const LEVEL_NUMBER = { advisory: 0, mandatory: 1, disabled: 2, remediate: 3 } as const;

interface Started {
  port?: number;
  output: string;
  code?: number;
  stop(): void;
}

function start(root: string, engine: string): Promise<Started> {
  const dir = join(root, "policies");
  const runPath = dirname(require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] }));
  const child = spawn(lookPath("node") ?? process.execPath, [runPath, engine, "."], {
    cwd: dir,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const state: Started = { output: "", stop: () => child.kill("SIGTERM") };
  return new Promise((resolve) => {
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      if (state.port !== undefined) return;
      stdout += chunk.toString("utf8");
      const line = stdout.split("\n")[0] ?? "";
      if (stdout.includes("\n") && /^\d+$/.test(line.trim())) {
        state.port = Number(line.trim());
        resolve(state);
      } else if (stdout.includes("\n")) state.output += stdout;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      state.output += chunk.toString("utf8");
    });
    child.on("close", (code) => {
      state.code = code ?? 1;
      resolve(state);
    });
  });
}

function unary<T>(client: grpc.Client, method: string, req: unknown): Promise<T> {
  return new Promise((ok, fail) => {
    const fn = (client as unknown as Record<string, (r: unknown, cb: (e: Error | null, res: T) => void) => void>)[method];
    if (!fn) return fail(new Error(`the analyzer client has no ${method}`));
    fn.call(client, req, (err, res) => (err ? fail(err) : ok(res)));
  });
}

export async function runPolicyPack(
  root: string,
  resources: PlanResource[],
  spec: { stack: StackSpec; catalog: Catalog; project: string; organization: string },
): Promise<PolicyPackRun> {
  const started = performance.now();
  const pb = require("@pulumi/pulumi/proto/analyzer_pb") as Record<string, Ctor>;
  const rpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb") as {
    AnalyzerClient: new (a: string, c: grpc.ChannelCredentials, o?: object) => grpc.Client;
  };
  const { Struct } = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(v: unknown): unknown } };
  const make = (name: string): Msg => {
    const C = pb[name];
    if (!C) throw new Error(`@pulumi/pulumi/proto/analyzer_pb has no ${name}`);
    return new C();
  };
  const engine = await serveMockEngine({});
  const pack = await start(root, engine.engine);
  const empty: PolicyPackRun = { violations: [], mandatory: 0, advisory: 0, policiesRun: 0, seconds: 0, compileErrors: [] };
  if (pack.port === undefined) {
    await engine.close();
    const text = [...engine.logs.map((l) => l.message), pack.output].join("\n");
    const compile = compileErrors(text, join(root, "policies"), root);
    const error = compile.length
      ? `the policy pack did not compile:\n${compile.map(formatCompileError).join("\n")}`
      : `the policy pack exited with code ${pack.code} before serving:\n${text.trim().split("\n").slice(-20).join("\n")}`;
    return { ...empty, compileErrors: compile, error };
  }

  const client = new rpc.AnalyzerClient(`127.0.0.1:${pack.port}`, grpc.credentials.createInsecure(), {
    "grpc.max_send_message_length": 400 * 1024 * 1024,
    "grpc.max_receive_message_length": 400 * 1024 * 1024,
  });
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const violations: PolicyViolation[] = [];
  const config = policyPackConfig(spec.stack, spec.catalog, allPolicies);
  try {
    const stackReq = make("AnalyzerStackConfigureRequest");
    stackReq.setStack?.(spec.stack.name);
    stackReq.setProject?.(spec.project);
    stackReq.setOrganization?.(spec.organization);
    stackReq.setDryRun?.(true);
    await unary(client, "configureStack", stackReq);

    const configure = make("ConfigureAnalyzerRequest");
    const map = configure.getPolicyconfigMap?.() as { set(k: string, v: unknown): void };
    for (const policy of allPolicies) {
      const { enforcementLevel } = config[policy.name] as { enforcementLevel: keyof typeof LEVEL_NUMBER };
      // The CLI sends each policy's config with its configSchema defaults filled in (as getConfig sees it).
      const properties = configValues(policy, config[policy.name]);
      const name = policy.name;
      const pc = make("PolicyConfig");
      pc.setEnforcementlevel?.(LEVEL_NUMBER[enforcementLevel]);
      pc.setProperties?.(Struct.fromJavaScript(JSON.parse(JSON.stringify(properties))));
      map.set(name, pc);
    }
    await unary(client, "configure", configure);

    const options = (r: PlanResource) => {
      const o = make("AnalyzerResourceOptions");
      o.setProtect?.(r.options.protect);
      if (r.parent) o.setParent?.(r.parent);
      return o;
    };
    const provider = (r: PlanResource) => {
      const ref = r.options.provider;
      const p = ref ? (byUrn.get(ref.slice(0, ref.lastIndexOf("::"))) ?? byUrn.get(ref)) : undefined;
      if (!p) return undefined;
      const m = make("AnalyzerProviderResource");
      m.setType?.(p.type);
      m.setUrn?.(p.urn);
      m.setName?.(p.name);
      m.setProperties?.(Struct.fromJavaScript(plain(p.inputs)));
      return m;
    };
    const collect = (res: Msg) => {
      for (const d of (res.getDiagnosticsList?.() ?? []) as Msg[]) {
        const urn = String(d.getUrn?.() ?? "");
        const r = byUrn.get(urn);
        const description = String(d.getDescription?.() ?? "");
        let message = String(d.getMessage?.() ?? "");
        // @pulumi/policy reports "<description>\n<message>"; the report keeps the message.
        if (description && message.startsWith(`${description}\n`)) message = message.slice(description.length + 1);
        const level = LEVELS[Number(d.getEnforcementlevel?.() ?? 0)] ?? "advisory";
        violations.push({
          policy: String(d.getPolicyname?.() ?? ""),
          enforcementLevel: level === "mandatory" || level === "remediate" ? "mandatory" : "advisory",
          urn,
          name: r?.name ?? (urn ? (urn.split("::").pop() ?? urn) : "(stack)"),
          type: r?.type ?? "",
          ...splitFix(message),
        });
      }
    };

    // Analyze per resource (the engine sends each goal's inputs), a few in flight at a time.
    const queue = [...resources];
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const req = make("AnalyzeRequest");
        req.setType?.(r.type);
        req.setUrn?.(r.urn);
        req.setName?.(r.name);
        req.setProperties?.(Struct.fromJavaScript(plain(r.inputs)));
        req.setOptions?.(options(r));
        const p = provider(r);
        if (p) req.setProvider?.(p);
        const current = r;
        const res = await unary<Msg>(client, "analyze", req).catch((e: Error) => {
          throw new Error(`policy pack: Analyze failed on ${current.urn}: ${e.message}`);
        });
        collect(res);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    const stackReq2 = make("AnalyzeStackRequest");
    stackReq2.setResourcesList?.(
      resources.map((r) => {
        const m = make("AnalyzerResource");
        m.setType?.(r.type);
        m.setUrn?.(r.urn);
        m.setName?.(r.name);
        m.setProperties?.(Struct.fromJavaScript(plain(r.outputs)));
        m.setOptions?.(options(r));
        const p = provider(r);
        if (p) m.setProvider?.(p);
        if (r.parent) m.setParent?.(r.parent);
        m.setDependenciesList?.(r.options.dependsOn ?? []);
        return m;
      }),
    );
    collect(await unary<Msg>(client, "analyzeStack", stackReq2));
  } catch (error) {
    return { ...empty, error: (error as Error).message };
  } finally {
    client.close();
    pack.stop();
    await engine.close();
  }
  const policiesRun = Object.values(config).filter((c) => (c as { enforcementLevel: string }).enforcementLevel !== "disabled").length;
  const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
  return {
    violations,
    mandatory,
    advisory: violations.length - mandatory,
    policiesRun,
    seconds: (performance.now() - started) / 1000,
    compileErrors: [],
  };
}

/** Struct.fromJavaScript takes JSON values only: drops undefined, keeps numbers, strings, lists and maps. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}
