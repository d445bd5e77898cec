import { mkdtempSync, rmSync } from "node:fs";
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
