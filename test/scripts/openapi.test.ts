import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPENAPI_DIR, SERVICES, staleDocuments } from "../../scripts/gen-openapi";

describe("docs/openapi", () => {
  it("holds each service's /openapi.json exactly as the service serves it", async () => {
    expect(await staleDocuments(), "run npm run openapi and commit docs/openapi/").toEqual([]);
    expect(Object.keys(SERVICES).sort()).toEqual(["drift", "features", "serving"]);
  });

  it("documents every route of every service with the shared error body", () => {
    for (const service of Object.keys(SERVICES)) {
      const doc = JSON.parse(readFileSync(join(OPENAPI_DIR, `${service}.json`), "utf8"));
      expect(doc.openapi).toBe("3.1.0");
      for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>))
        for (const [method, operation] of Object.entries(operations)) {
          const codes = Object.keys(operation.responses);
          expect(
            codes.some((c) => c.startsWith("2")),
            `${service} ${method} ${path} documents a success`,
          ).toBe(true);
          expect(
            codes.some((c) => c.startsWith("4")),
            `${service} ${method} ${path} documents its 4xx`,
          ).toBe(true);
        }
    }
  });
});
