import { serializeEntityKey } from "../entity-key";
import { type EntityKey, type OnlineRow, type OnlineStore, type OnlineView, type OnlineWrite, type ViewRead, type WriteResult } from "./store";
import { readEachView } from "./view";

/**
 * An in-process store for local runs and tests: a Map keyed like Feast's Redis layout (serialized
 * entity key + project, then feature view), holding the same rows the other adapters hold.
 */
export class EmbeddedOnlineStore implements OnlineStore {
  readonly kind = "embedded";
  private readonly rows = new Map<string, Map<string, OnlineRow>>();

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
      if (previous && Math.floor(row.eventTimestamp) <= previous.eventTimestamp) continue;
      views.set(view.name, { eventTimestamp: Math.floor(row.eventTimestamp), values: { ...row.values } });
      written++;
    }
    return { written, skipped: rows.length - written };
  }

  async health(): Promise<void> {}

  async close(): Promise<void> {}
}
