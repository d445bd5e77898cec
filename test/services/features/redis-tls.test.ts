import { nanosFromSeconds } from "../../../services/features/timestamp";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../demo/processes";
import { openOnlineStore } from "../../../services/features/online/store";
import { onlineViewOf } from "../../../services/features/online/view";
import { fixtureCatalog } from "./support";

/**
 * A TLS-only redis-server whose certificate is signed by a private CA, as Memorystore's is: the
 * store trusts it only when given the CA (`rediss://...?tlsCa=<file>`).
 */
let dir: string;
let port: number;
let server: ChildProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "redis-tls-"));
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=test-ca", "-keyout", "ca.key", "-out", "ca.crt");
  ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  ssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "san.ext",
    "-out",
    "server.crt",
  );
  port = await freePort();
  server = spawn(
    "redis-server",
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      "server.crt",
      "--tls-key-file",
      "server.key",
      "--tls-ca-cert-file",
      "ca.crt",
      "--tls-auth-clients",
      "no",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    { cwd: dir, stdio: "ignore" },
  );
  // Wait until the TLS port accepts connections.
  const { connect } = await import("node:net");
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => resolve(socket.destroy() !== undefined));
      socket.once("error", () => resolve(false));
    });
    if (open) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(() => {
  server?.kill("SIGKILL");
});

describe("Redis over TLS with a private CA (Memorystore)", () => {
  const view = onlineViewOf(fixtureCatalog(), "driver_hourly_stats");

  it("reads and writes when given the CA certificate", async () => {
    const store = await openOnlineStore(`rediss://127.0.0.1:${port}?tlsCa=${encodeURIComponent(join(dir, "ca.crt"))}`, { timeoutMs: 2000 });
    try {
      await store.health();
      await store.writeFeatures(view, [{ key: [7], eventTimestamp: nanosFromSeconds(1_700_000_000), values: { conv_rate: 0.5 } }]);
      const [row] = await store.readFeatures(view, [[7]], ["conv_rate"]);
      expect(row?.values.conv_rate).toBeCloseTo(0.5, 6);
    } finally {
      await store.close();
    }
  });

  it("refuses the server without it: the certificate is not trusted", async () => {
    const store = await openOnlineStore(`rediss://127.0.0.1:${port}`, { timeoutMs: 1000 });
    try {
      await expect(store.health()).rejects.toThrow();
    } finally {
      await store.close();
    }
  });

  it("names the file and the fix when the CA file is missing", async () => {
    await expect(openOnlineStore(`rediss://127.0.0.1:${port}?tlsCa=/nonexistent/ca.crt`)).rejects.toThrow(
      /tlsCa=\/nonexistent\/ca.crt cannot be read \(ENOENT\); mount the server's CA certificate there/,
    );
  });
});
