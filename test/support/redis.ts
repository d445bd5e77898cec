import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startRedis as startRedisProcess } from "../../demo/processes";

export { freePort };

/** A real redis-server (Debian's package) on a free loopback port, for one test file. */
export interface RedisServer {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Kills it and starts it again on the same port (for outage/recovery tests); data is not kept. */
  restart(): Promise<void>;
}

export async function startRedis(options: { password?: string } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), "redis-test-"));
  const redis = await startRedisProcess(dir, { password: options.password, persist: false });
  return {
    port: redis.port,
    url: redis.url,
    stop: async () => {
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    restart: async () => {
      await redis.kill();
      await redis.restart();
    },
  };
}

/** A real Redis Cluster of three redis-server masters (no replicas) on free loopback ports, for one test file. */
export interface RedisCluster {
  ports: number[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3` */
  url: string;
  /** Kills one master (an outage of one shard). */
  kill(port: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedisCluster(): Promise<RedisCluster> {
  const { spawn, execFile } = await import("node:child_process");
  const { promisify } = await import("node:util");
  const run = promisify(execFile);
  const dir = mkdtempSync(join(tmpdir(), "redis-cluster-"));
  const ports: number[] = [];
  const children: import("node:child_process").ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const [port, bus] = [await freePort(), await freePort()];
    ports.push(port);
    const nodeDir = join(dir, String(port));
    mkdirSync(nodeDir);
    // cluster-port: the bus on its own free port (the default, port + 10000, may be taken or out of range).
    const args = ["--port", String(port), "--cluster-port", String(bus), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    args.push(
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      join(nodeDir, "nodes.conf"),
      "--cluster-node-timeout",
      "2000",
      "--dir",
      nodeDir,
    );
    children.push(spawn("redis-server", args, { stdio: "ignore" }));
  }
  const killChild = (c: import("node:child_process").ChildProcess) =>
    new Promise<void>((done) => {
      if (c.exitCode !== null || c.signalCode !== null) return done();
      c.once("exit", () => done());
      c.kill("SIGKILL");
    });
  const stop = async () => {
    await Promise.all(children.map(killChild));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ping = async (port: number) =>
      run("redis-cli", ["-p", String(port), "ping"]).then(
        (r) => r.stdout.trim() === "PONG",
        () => false,
      );
    for (const port of ports) for (let i = 0; i < 100 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 50));
    await run("redis-cli", ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"]);
    const ok = async (port: number) =>
      run("redis-cli", ["-p", String(port), "cluster", "info"]).then(
        (r) => r.stdout.includes("cluster_state:ok"),
        () => false,
      );
    for (const port of ports) for (let i = 0; i < 200 && !(await ok(port)); i++) await new Promise((r) => setTimeout(r, 50));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    ports,
    url: `redis+cluster://${ports.map((p) => `127.0.0.1:${p}`).join(",")}`,
    kill: (port) => killChild(children[ports.indexOf(port)] as import("node:child_process").ChildProcess),
    stop,
  };
}
