import type { Catalog } from "../../definition/registry";
import { HttpError } from "../core/errors";
import { onlineWriteOf } from "./materialize";
import type { OfflineRow, OfflineStore } from "./offline/store";
import { sqlViewOf } from "./offline/view";
import { serializeEntityKey } from "./entity-key";
import type { OnlineStore, OnlineWrite } from "./online/store";
import { onlineViewOf } from "./online/view";
import { toEpochNanos } from "./timestamp";

/** Body of `POST /push`, as Feast's feature server takes it. */
export interface PushRequest {
  push_source_name: string;
  /** Columns of the dataframe: name -> values (Feast sends pandas' dict-of-lists). */
  df: Record<string, unknown[]>;
  /** "online" (default), "offline", "online_and_offline"; Feast's docs also write "both". */
  to?: string;
  allow_registry_cache?: boolean;
  transform_on_write?: boolean;
}

export interface PushResult {
  rows: number;
  online?: { written: number; skipped: number };
  offline?: { rows: number };
}

const TARGETS: Record<string, { online: boolean; offline: boolean }> = {
  online: { online: true, offline: false },
  offline: { online: false, offline: true },
  online_and_offline: { online: true, offline: true },
  both: { online: true, offline: true },
};

/** Writes pushed rows to the push source's feature view, online and/or offline. */
export async function push(
  catalog: Catalog,
  online: OnlineStore,
  offline: OfflineStore | undefined,
  request: PushRequest,
  maxRows: number,
): Promise<PushResult> {
  const source = catalog.pushSources[request.push_source_name];
  if (!source)
    throw new HttpError(
      400,
      `push source "${request.push_source_name}" is not in the catalog; known: ${Object.keys(catalog.pushSources).join(", ") || "none"}`,
    );
  const target = TARGETS[request.to ?? "online"];
  if (!target) throw new HttpError(400, `"to": "${request.to}" is not a push mode; use one of online, offline, online_and_offline`);
  const view = onlineViewOf(catalog, source.featureView);
  const timestampColumn = catalog.featureViews[source.featureView]?.source.timestampField ?? "event_timestamp";
  const rows = rowsOf(request.df, maxRows);
  for (const column of [...view.joinKeys.map((k) => k.name), timestampColumn]) {
    if (!(column in request.df))
      throw new HttpError(400, `df.${column} is missing; feature view "${view.name}" needs its join keys and "${timestampColumn}"`);
  }
  if (!view.features.some((f) => f.name in request.df))
    throw new HttpError(400, `df has none of the features of "${view.name}" (${view.features.map((f) => f.name).join(", ")})`);
  const result: PushResult = { rows: rows.length };
  if (target.online) {
    const newest = new Map<string, OnlineWrite>();
    rows.forEach((row, i) => {
      let write: OnlineWrite;
      try {
        write = onlineWriteOf(view, row, timestampColumn);
      } catch (error) {
        throw new HttpError(400, `df row ${i}: ${(error as Error).message}`);
      }
      // Several rows for one key in one push: keep the newest, as the store would after writing them in order.
      const id = serializeEntityKey(view.joinKeys, write.key).toString("base64");
      const seen = newest.get(id);
      if (!seen || write.eventTimestamp >= seen.eventTimestamp) newest.set(id, write);
    });
    result.online = await online.writeFeatures(view, [...newest.values()]);
  }
  if (target.offline) {
    if (!offline) throw new HttpError(501, "this server has no offline store; start it with --offline-store to push offline");
    const offlineRows = rows.map((row) => ({
      ...row,
      [timestampColumn]: new Date(Number(toEpochNanos(row[timestampColumn]) / 1_000_000n)),
    }));
    try {
      result.offline = { rows: await offline.append(sqlViewOf(catalog, view.name), offlineRows) };
    } catch (error) {
      throw new HttpError(400, (error as Error).message);
    }
  }
  return result;
}

function rowsOf(df: Record<string, unknown[]>, maxRows: number): OfflineRow[] {
  const columns = Object.entries(df ?? {});
  if (columns.length === 0)
    throw new HttpError(400, '"df" is empty; give columns like {"driver_id": [1001], "event_timestamp": ["2022-05-13 10:59:42"], ...}');
  // Feast (pandas) broadcasts a scalar column over the rows; so do we.
  const length = Math.max(...columns.map(([, v]) => (Array.isArray(v) ? v.length : 1)));
  if (length > maxRows) throw new HttpError(413, `${length} rows is over the limit of ${maxRows} per push; split it`);
  for (const [name, values] of columns) {
    if (Array.isArray(values) && values.length !== length)
      throw new HttpError(400, `df.${name} has ${values.length} values but other columns have ${length}`);
  }
  return Array.from({ length }, (_, i) =>
    Object.fromEntries(columns.map(([name, values]) => [name, Array.isArray(values) ? values[i] : values])),
  );
}
