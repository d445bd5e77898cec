import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { serializeEntityKey } from "../entity-key";
import { nanosFromSeconds } from "../timestamp";
import { decodeValue, encodeValue } from "../values";
import type { EntityKey, OnlineRow, OnlineStore, OnlineView, OnlineWrite, ViewRead, WriteResult } from "./store";
import { dtypeOf, readEachView } from "./view";

/** Snapshot file: key -> view -> [event time (epoch nanoseconds as a decimal string; a number is seconds, the old form), feature -> base64 feast.types.Value]. */
type Snapshot = Record<string, Record<string, [string | number, Record<string, string>]>>;

/**
 * An in-process store for local runs and tests: a Map keyed like Feast's Redis layout (serialized
 * entity key + project, then feature view), holding the same rows the other adapters hold.
 * `embedded:<file>` keeps a snapshot across processes (values as Feast Value bytes), so
 * `materialize` and `serve` can run one after the other on a laptop; it is saved on close.
 */
export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = "embedded";
  private readonly rows = new Map<string, Map<string, OnlineRow>>();
  /** The snapshot kept in step with `rows` when a file is given. */
  private snapshot: Snapshot = {};

  constructor(private readonly snapshotPath?: string) {
    if (snapshotPath && existsSync(snapshotPath)) {
      this.snapshot = JSON.parse(readFileSync(snapshotPath, "utf8")) as Snapshot;
      for (const [key, views] of Object.entries(this.snapshot)) {
        const map = new Map<string, OnlineRow>();
        for (const [view, [eventTimestamp, values]] of Object.entries(views)) {
          map.set(view, {
            eventTimestamp: typeof eventTimestamp === "number" ? nanosFromSeconds(eventTimestamp) : BigInt(eventTimestamp),
            values: Object.fromEntries(Object.entries(values).map(([f, b64]) => [f, decodeValue(Buffer.from(b64, "base64"))])),
          });
        }
        this.rows.set(key, map);
      }
    }
  }

  private keyOf(view: OnlineView, key: EntityKey): string {
    return `${serializeEntityKey(view.joinKeys, key).toString("base64")}|${view.project}`;
  }

  async readFeatures(view: OnlineView, entityKeys: EntityKey[], featureNames: string[]): Promise<(OnlineRow | undefined)[]> {
    return entityKeys.map((key) => {
      const row = this.rows.get(this.keyOf(view, key))?.get(view.name);
      if (!row) return undefined;
      const values: OnlineRow["values"] = {};
      for (const name of featureNames) if (name in row.values) values[name] = row.values[name] ?? null;
      return { eventTimestamp: row.eventTimestamp, values };
    });
  }

  readMany(reads: ViewRead[]): Promise<(OnlineRow | undefined)[][]> {
    return readEachView(this, reads);
  }

  async writeFeatures(view: OnlineView, rows: OnlineWrite[]): Promise<WriteResult> {
    let written = 0;
    for (const row of rows) {
      const id = this.keyOf(view, row.key);
      let views = this.rows.get(id);
      if (!views) {
        views = new Map();
        this.rows.set(id, views);
      }
      const previous = views.get(view.name);
      if (previous && row.eventTimestamp <= previous.eventTimestamp) continue;
      views.set(view.name, { eventTimestamp: row.eventTimestamp, values: { ...row.values } });
      if (this.snapshotPath) {
        const encoded = Object.fromEntries(
          Object.entries(row.values).map(([name, value]) => [
            name,
            Buffer.from(encodeValue(dtypeOf(view, name), value)).toString("base64"),
          ]),
        );
        this.snapshot[id] = { ...this.snapshot[id], [view.name]: [row.eventTimestamp.toString(), encoded] };
      }
      written++;
    }
    return { written, skipped: rows.length - written };
  }

  async health(): Promise<void> {}

  async close(): Promise<void> {
    if (!this.snapshotPath) return;
    mkdirSync(dirname(this.snapshotPath), { recursive: true });
    writeFileSync(`${this.snapshotPath}.tmp`, JSON.stringify(this.snapshot));
    renameSync(`${this.snapshotPath}.tmp`, this.snapshotPath);
  }
}
