import * as pulumi from "@pulumi/pulumi";
import type { PlanResource } from "../../../components/plan-resource";
import { aws } from "./aws";
import { gcp } from "./gcp";
import { k8s } from "./k8s";
import { random } from "./random";
import { AWS_ACCOUNT, type CallFn, type OutputsFn, suffix } from "./types";

export { suffix } from "./types";

const TABLES = [aws, gcp, k8s, random];
const OUTPUTS: Record<string, OutputsFn> = Object.assign({}, ...TABLES.map((t) => t.outputs));
const CALLS: Record<string, CallFn> = Object.assign({}, ...TABLES.map((t) => t.calls));

export interface MockContext {
  project: string;
  stack: string;
  region: string;
  /** GCP project id, for GCP stacks. */
  gcpProject: string;
}

/** Generic realistic outputs by provider when no exact entry exists. */
function genericOutputs(type: string, name: string, ctx: MockContext): Record<string, unknown> {
  const [pkg, mod = ""] = type.split(":");
  if (pkg === "aws") {
    const service = mod.split("/")[0] ?? "aws";
    return { arn: `arn:aws:${service}:${ctx.region}:${AWS_ACCOUNT}:${mod.split("/")[1]?.toLowerCase() ?? service}/${name}` };
  }
  if (pkg === "gcp") return { selfLink: `https://www.googleapis.com/${mod.split("/")[0]}/v1/projects/${ctx.gcpProject}/${name}` };
  return {};
}

/** What only the engine's register request carries: parent, options and secret paths. */
interface RequestMeta {
  parent?: string;
  protect: boolean;
  retainOnDelete: boolean;
  provider?: string;
  dependsOn: string[];
  deleteBeforeReplace: boolean;
  ignoreChanges: string[];
  urn: string;
  secretPaths: string[];
}

/**
 * Pulumi mocks that return realistic ids, ARNs and endpoints, record every registered resource
 * (with parent, protect and provider, read from the mock monitor's requests), and refuse an
 * invoke they do not know, so a missing mock cannot pass silently.
 */
export class PlanMocks implements pulumi.runtime.Mocks {
  readonly resources: PlanResource[] = [];
  /** Invokes that had no mock (the engine drops the error text, so the plan reports these). */
  readonly unknownInvokes: string[] = [];
  private readonly meta = new Map<string, RequestMeta>();

  constructor(private readonly ctx: MockContext) {}

  /** Called by the patched monitor before newResource, with what only the request carries. */
  noteRequest(type: string, name: string, meta: RequestMeta): void {
    this.meta.set(`${type}::${name}::${meta.parent ?? ""}`, meta);
    this.lastKey = `${type}::${name}::${meta.parent ?? ""}`;
  }
  private lastKey = "";

  newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
    const inputs = unwrapSecrets(args.inputs ?? {}) as Record<string, unknown>;
    const fn = OUTPUTS[args.type];
    const extra = fn
      ? fn({ name: args.name, inputs, region: this.ctx.region, project: this.ctx.gcpProject, stack: this.ctx.stack })
      : genericOutputs(args.type, args.name, this.ctx);
    const state = { ...inputs, ...extra };
    const id = args.custom === false ? undefined : ((extra.id as string | undefined) ?? `${args.name}-${suffix(args.type + args.name, 8)}`);
    const meta = this.meta.get(this.lastKey);
    this.resources.push({
      type: args.type,
      name: args.name,
      urn: meta?.urn ?? `urn:pulumi:${this.ctx.stack}::${this.ctx.project}::${args.type}::${args.name}`,
      parent: meta?.parent || undefined,
      inputs,
      outputs: state,
      custom: args.custom !== false,
      options: {
        protect: meta?.protect ?? false,
        retainOnDelete: meta?.retainOnDelete,
        provider: meta?.provider || undefined,
        dependsOn: meta?.dependsOn,
        deleteBeforeReplace: meta?.deleteBeforeReplace || undefined,
        ignoreChanges: meta?.ignoreChanges?.length ? meta.ignoreChanges : undefined,
      },
      secretPaths: meta?.secretPaths,
    });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const fn = CALLS[args.token];
    if (!fn) this.unknownInvokes.push(args.token);
    if (!fn) throw new Error(`plan mocks: no mock for invoke "${args.token}"; add one to stacks/plan/mocks/`);
    return fn((args.inputs ?? {}) as Record<string, unknown>, { region: this.ctx.region, project: this.ctx.gcpProject });
  }
}

const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Replaces Pulumi's secret envelopes ({<sig>: <secret sig>, value}) by their values; paths are kept separately for masking. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function secretPathsOf(value: unknown, path: string, out: string[]): void {
  if (value && typeof value === "object") {
    const record = value as Record<string, unknown>;
    if (record[SIG_KEY] === SECRET_SIG) {
      out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(record)) secretPathsOf(v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * Installs the mocks. Components are registered as resources too (custom = false), so the
 * recorder sees the whole tree. Returns the mocks, whose `resources` fill as the program runs.
 */
export async function installMocks(ctx: MockContext): Promise<PlanMocks> {
  const mocks = new PlanMocks(ctx);
  // The monitor's request carries parent/protect/provider, which MockResourceArgs drops.
  const mockModule = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: { prototype: Record<string, unknown> } };
  const rpc = require("@pulumi/pulumi/runtime/rpc") as {
    deserializeProperties(o: unknown, keepUnknowns?: boolean, keepSecrets?: boolean): Record<string, unknown>;
  };
  const proto = mockModule.MockMonitor.prototype as {
    registerResource: (req: RegisterRequest, cb: unknown) => Promise<void>;
    __planPatched?: boolean;
    newUrn: (parent: string, type: string, name: string) => string;
  };
  if (!proto.__planPatched) {
    // The engine's URN (step_generator urnFromGoal): the parent's whole qualified type chain, and
    // none for children of the root stack; the mock keeps only the parent's last type.
    proto.newUrn = (parent: string, type: string, name: string) => {
      const settings = require("@pulumi/pulumi/runtime/settings") as { getStack(): string; getProject(): string };
      const parentType = parent ? (parent.split("::")[2] ?? "") : "";
      const qualified = parentType && parentType !== "pulumi:pulumi:Stack" ? `${parentType}$${type}` : type;
      return `urn:pulumi:${settings.getStack()}::${settings.getProject()}::${qualified}::${name}`;
    };
    const original = proto.registerResource;
    proto.registerResource = async function (this: typeof proto & { mocks: unknown }, req: RegisterRequest, cb: unknown) {
      const target = this.mocks;
      if (target instanceof PlanMocks) {
        const secretPaths: string[] = [];
        secretPathsOf(rpc.deserializeProperties(req.getObject(), false, true), "", secretPaths);
        target.noteRequest(req.getType(), req.getName(), {
          parent: req.getParent(),
          protect: Boolean(req.getProtect?.()),
          retainOnDelete: Boolean(req.getRetainondelete?.()),
          provider: req.getProvider(),
          dependsOn: req.getDependenciesList?.() ?? [],
          deleteBeforeReplace: Boolean(req.getDeletebeforereplace?.()),
          ignoreChanges: req.getIgnorechangesList?.() ?? [],
          urn: this.newUrn(req.getParent(), req.getType(), req.getName()),
          secretPaths,
        });
      }
      return original.call(this, req, cb);
    };
    proto.__planPatched = true;
  }
  await pulumi.runtime.setMocks(mocks, ctx.project, ctx.stack, true);
  return mocks;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getProtect?(): boolean;
  getRetainondelete?(): boolean;
  getProvider(): string;
  getDependenciesList?(): string[];
  getDeletebeforereplace?(): boolean;
  getIgnorechangesList?(): string[];
  getObject(): unknown;
}

/** Waits until every registration and invoke the program started has completed. */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  for (let i = 0; i < 3; i++) {
    await settings.waitForRPCs();
    await new Promise((r) => setImmediate(r));
  }
}
