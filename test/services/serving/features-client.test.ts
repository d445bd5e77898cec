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
 * request on it. Later connections answer every request (unless `always`: every connection drops).
 */
async function staleAfter(
  answered: number,
  options: { always?: boolean } = {},
): Promise<{ url: string; connections: () => number; server: Server }> {
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
        if ((first || options.always) && served === answered) {
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
    await client.close();
  });

  it("sends it at most twice: a server that drops every lookup is a 503 saying why", async () => {
    const stale = await staleAfter(0, { always: true });
    servers.push(stale.server);
    const client = new FeaturesClient({ url: stale.url, timeoutMs: 2_000 });
    await expect(client.get("svc", { card_id: [1] })).rejects.toMatchObject({
      statusCode: 503,
      message: expect.stringMatching(/features service at http:\/\/127\.0\.0\.1:\d+/),
    });
    expect(stale.connections()).toBe(2);
    await client.close();
  });

  it("a features service that does not answer within the deadline is a 503 naming the deadline", async () => {
    const silent = createServer((socket) => socket.resume());
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const client = new FeaturesClient({ url: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, timeoutMs: 100 });
    const started = Date.now();
    await expect(client.get("svc", { card_id: [1] })).rejects.toMatchObject({
      statusCode: 503,
      message: expect.stringMatching(/no answer within 100 ms/),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    await client.close();
  });
});
