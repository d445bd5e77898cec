import * as grpc from "@grpc/grpc-js";

/**
 * The two gRPC services `@pulumi/pulumi/cmd/run` talks to, served from the plan's process: the
 * resource monitor (registration and invokes, answered by the SDK's own MockMonitor over the plan's
 * mocks: the one place where the cloud is) and the engine (diagnostics and the root resource).
 * The program runs in its own Node process, started exactly as the language host starts it, so
 * everything but registration (loading, ts-node type checking, config, the stack resource,
 * shutdown) is Pulumi's own code.
 */

/** A diagnostic the program sent through the engine's Log RPC (compile errors, log.error, warnings). */
export interface EngineLog {
  severity: "debug" | "info" | "warning" | "error";
  message: string;
  urn: string;
}

interface Proto {
  new (): Record<string, (...a: unknown[]) => unknown>;
}
type Handler = (call: { request: never }, callback: (err: Error | null, res?: unknown) => void) => void;

const SEVERITIES: EngineLog["severity"][] = ["debug", "info", "warning", "error"];

/** The MockMonitor methods with their RPC names; what it lacks answers UNIMPLEMENTED, as an old engine would. */
const MONITOR_METHODS = [
  "invoke",
  "readResource",
  "existsResource",
  "registerResource",
  "registerResourceOutputs",
  "registerStackTransform",
  "registerStackInvokeTransform",
  "getDeploymentInfo",
  "registerPackage",
] as const;

export interface MockEngine {
  monitor: string;
  engine: string;
  logs: EngineLog[];
  close(): Promise<void>;
}

/** Serves `monitor` (a @pulumi/pulumi MockMonitor) and an engine that records logs, on two free loopback ports. */
export async function serveMockEngine(monitor: Record<string, unknown>, onLog: (log: EngineLog) => void = () => {}): Promise<MockEngine> {
  const resourceGrpc = require("@pulumi/pulumi/proto/resource_grpc_pb") as { ResourceMonitorService: grpc.ServiceDefinition };
  const engineGrpc = require("@pulumi/pulumi/proto/engine_grpc_pb") as { EngineService: grpc.ServiceDefinition };
  const resourcePb = require("@pulumi/pulumi/proto/resource_pb") as Record<string, Proto>;
  const enginePb = require("@pulumi/pulumi/proto/engine_pb") as Record<string, Proto>;
  const emptyPb = require("google-protobuf/google/protobuf/empty_pb") as { Empty: Proto };

  const logs: EngineLog[] = [];
  const monitorImpl: Record<string, Handler> = {};
  for (const name of MONITOR_METHODS) {
    const method = monitor[name] as ((req: never, cb: (err: Error | null, res?: unknown) => void) => unknown) | undefined;
    if (typeof method !== "function") continue;
    monitorImpl[name] = (call, callback) => {
      // The mock answers some calls with plain objects; the wire needs the real messages.
      void method.call(monitor, call.request, (err, res) => {
        if (err) return callback(err);
        if (name === "registerResourceOutputs" || name === "registerStackTransform" || name === "registerStackInvokeTransform")
          return callback(null, new emptyPb.Empty());
        callback(null, res);
      });
    };
  }
  monitorImpl.supportsFeature = (call, callback) => {
    const req = call.request as unknown as { getId(): string };
    const res = new (resourcePb.SupportsFeatureResponse as Proto)();
    // As the mock monitor: every feature except output values, so inputs stay plain values.
    (res.setHassupport as (v: boolean) => void)(req.getId() !== "outputValues");
    callback(null, res);
  };

  let rootUrn = "";
  const engineImpl: Record<string, Handler> = {
    log: (call, callback) => {
      const req = call.request as unknown as { getSeverity(): number; getMessage(): string; getUrn(): string };
      const entry: EngineLog = { severity: SEVERITIES[req.getSeverity()] ?? "info", message: req.getMessage(), urn: req.getUrn() };
      logs.push(entry);
      onLog(entry);
      callback(null, new emptyPb.Empty());
    },
    getRootResource: (_call, callback) => {
      const res = new (enginePb.GetRootResourceResponse as Proto)();
      (res.setUrn as (v: string) => void)(rootUrn);
      callback(null, res);
    },
    setRootResource: (call, callback) => {
      rootUrn = (call.request as unknown as { getUrn(): string }).getUrn();
      callback(null, new (enginePb.SetRootResourceResponse as Proto)());
    },
    requirePulumiVersion: (_call, callback) => callback(null, new (enginePb.RequirePulumiVersionResponse as Proto)()),
  };

  const servers: grpc.Server[] = [];
  const listen = async (service: grpc.ServiceDefinition, impl: Record<string, Handler>): Promise<string> => {
    const server = new grpc.Server({ "grpc.max_receive_message_length": 400 * 1024 * 1024 });
    server.addService(service, impl as unknown as grpc.UntypedServiceImplementation);
    const port = await new Promise<number>((ok, fail) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err ? fail(err) : ok(p))),
    );
    servers.push(server);
    return `127.0.0.1:${port}`;
  };
  const monitorAddr = await listen(resourceGrpc.ResourceMonitorService, monitorImpl);
  const engineAddr = await listen(engineGrpc.EngineService, engineImpl);
  return {
    monitor: monitorAddr,
    engine: engineAddr,
    logs,
    close: async () => {
      for (const s of servers) s.forceShutdown();
    },
  };
}
