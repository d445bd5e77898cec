import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FeaturesClient } from "../../../services/serving/features-client";

const ANSWER = JSON.stringify({
  metadata: { feature_names: ["card_id", "txn_count_1h"] },
  results: [
    { values: [1], statuses: ["PRESENT"], event_timestamps: ["1970-01-01T00:00:00Z"] },
    { values: [3], statuses: ["PRESENT"], event_timestamps: ["2026-01-01T00:00:00Z"] },
  ],
});

/**
 * A keep-alive HTTP server that, like one whose idle timeout fires just as the client reuses the
 * connection, drops its first connection after `answered` answers without answering the next
 * request on it. Later connections answer every request.
 */
async function staleAfter(answered: number): Promise<{ url: string; connections: () => number; server: Server }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    const first = connections++ === 0;
    let buffered = "";
    let served = 0;
    socket.on("data", (chunk) => {
      buffered += chunk.toString("latin1");
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, end))?.[1] ?? 0);
        if (buffered.length < end + 4 + length) return;
        buffered = buffered.slice(end + 4 + length);
        if (first && served === answered) {
          socket.destroy();
          return;
        }
        served++;
        socket.write(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(ANSWER)}\r\nconnection: keep-alive\r\n\r\n${ANSWER}`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, connections: () => connections, server };
}

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

describe("the features client's connection pool", () => {
  it("sends a lookup again on a fresh connection when the server dropped the pooled one it reused", async () => {
    const stale = await staleAfter(1);
    servers.push(stale.server);
    const client = new FeaturesClient({ url: stale.url, timeoutMs: 2_000 });
    expect((await client.get("svc", { card_id: [1] })).results[1]?.values).toEqual([3]);
    // The second lookup reuses the pooled socket, which the server drops: answered anyway.
    expect((await client.get("svc", { card_id: [1] })).results[1]?.values).toEqual([3]);
    expect(stale.connections()).toBe(2);
  });

  it("does not send a lookup a third time: a server that keeps dropping it is a 503", async () => {
    const stale = await staleAfter(0);
    servers.push(stale.server);
    const client = new FeaturesClient({ url: stale.url, timeoutMs: 2_000 });
    // A fresh socket dropped before any answer is not a stale pooled one: no retry.
    await expect(client.get("svc", { card_id: [1] })).rejects.toMatchObject({ statusCode: 503 });
    expect(stale.connections()).toBe(1);
  });
});
