/**
 * Runs our default drift checks and Evidently's DataDriftPreset (venv-evidently) on the same data
 * and writes the side-by-side table into docs/drift.md ("Beside Evidently"). Run after changing a
 * drift method or its defaults: `npx tsx scripts/gen-drift-evidently.ts` (about a minute, most of it
 * importing Evidently); test/services/drift/evidently-parity.test.ts fails while the doc is stale.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CASES, renderTable, sideBySide, withTable } from "../test/services/drift/evidently/side-by-side";

const DOC = join(__dirname, "..", "docs", "drift.md");

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), "drift-evidently-"));
  try {
    const cases = await Promise.all(CASES.map((c) => sideBySide(work, c)));
    writeFileSync(DOC, withTable(readFileSync(DOC, "utf8"), renderTable(cases)));
    console.log(`docs/drift.md: side-by-side table of ${cases.length} cases written`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
