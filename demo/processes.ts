import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "..");

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? done(address.port) : fail(new Error("no port"))));
    });
  });
}

export interface Managed {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before it was ready`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

function stopper(child: ChildProcess): (graceMs?: number) => Promise<void> {
  return (graceMs = 5000) =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      child.once("exit", () => {
        clearTimeout(timer);
        done();
      });
      child.kill("SIGTERM");
    });
}

/**
 * Starts one of the platform's services as a local process (`node --import tsx services/<name>/main.ts`),
 * logs to <logDir>/<label>.log, and waits for its readiness endpoint.
 */
export async function startService(
  label: string,
  service: "features" | "serving" | "drift",
  args: string[],
  options: { logDir: string; readyPath: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Managed> {
  const port = await freePort();
  mkdirSync(options.logDir, { recursive: true });
  const log = createWriteStream(join(options.logDir, `${label}.log`));
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      join(ROOT, "services", service, "main.ts"),
      ...args,
      "--port",
      String(port),
      "--host",
      "127.0.0.1",
      // Several serving processes run side by side here: each takes any free port for its gRPC API too.
      ...(service === "serving" ? ["--grpc-port", "0"] : []),
    ],
    {
      cwd: ROOT,
      env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "info", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const url = `http://127.0.0.1:${port}`;
  const managed: Managed = { name: label, url, port, child, stop: stopper(child) };
  try {
    await waitUntil(
      async () => (await fetch(`${url}${options.readyPath}`, { signal: AbortSignal.timeout(1000) })).ok,
      options.timeoutMs ?? 60_000,
      `${label} (see ${join(options.logDir, `${label}.log`)})`,
      child,
    );
  } catch (error) {
    await managed.stop(1000);
    throw error;
  }
  return managed;
}

export interface RedisHandle {
  url: string;
  port: number;
  /** Kills the server (for outage tests) and starts it again on the same port. */
  kill(): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Debian's redis-server on a free loopback port. By default with an append-only file (fsync per
 * write), as a managed Redis with persistence, so a crashed server comes back with its data.
 */
export async function startRedis(dir: string, options: { password?: string; persist?: boolean } = {}): Promise<RedisHandle> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", dir];
  args.push(...(options.persist === false ? ["--appendonly", "no"] : ["--appendonly", "yes", "--appendfsync", "always"]));
  if (options.password) args.push("--requirepass", options.password);
  const start = async () => {
    child = spawn("redis-server", args, { stdio: "ignore" });
    const spawned = child;
    await new Promise<void>((done, fail) => {
      spawned.once("error", (e) =>
        fail(new Error(`redis-server could not start (${e.message}): install it (apt-get install redis-server) or set REDIS_URL`)),
      );
      spawned.once("spawn", () => done());
    });
    const { connect } = await import("node:net");
    await waitUntil(
      () =>
        new Promise<boolean>((done) => {
          const socket = connect(port, "127.0.0.1");
          socket.once("connect", () => {
            socket.destroy();
            done(true);
          });
          socket.once("error", () => done(false));
        }),
      5000,
      "redis-server",
      spawned,
    );
  };
  const kill = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((done) => {
      c.once("exit", () => done());
      c.kill("SIGKILL");
    });
  };
  await start();
  const auth = options.password ? `:${options.password}@` : "";
  return { url: `redis://${auth}127.0.0.1:${port}`, port, kill, restart: start, stop: kill };
}
