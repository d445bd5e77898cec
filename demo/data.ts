import { DuckDBInstance } from "@duckdb/node-api";

/** Size of the generated fraud-scoring world. */
export interface DemoDataOptions {
  cards: number;
  merchants: number;
  /** Hourly card snapshots over this many hours, ending at `end`. */
  hours: number;
  end: Date;
  seed: number;
}

/** A seeded generator (Park-Miller): the demo's data is the same on every run. */
export function seeded(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

/** Gamma-ish positive amounts with a long tail, as card amounts have. */
function amount(rand: () => number, scale: number): number {
  return Math.round(-Math.log(1 - rand() * 0.999) * scale * 100) / 100;
}

export interface CardRow {
  card_id: number;
  event_timestamp: Date;
  created_timestamp: Date;
  txn_count_1h: number;
  txn_amount_avg_7d: number;
  txn_amount_max_24h: number;
  days_since_first_txn: number;
  home_country: string;
}

export interface MerchantRow {
  merchant_id: number;
  event_timestamp: Date;
  created_timestamp: Date;
  merchant_risk: number;
  chargeback_rate_30d: number;
  category: string;
}

const COUNTRIES = ["US", "GB", "DE", "FR", "NL", "ES", "IN", "BR"];
const CATEGORIES = ["grocery", "travel", "electronics", "fuel", "restaurants", "gaming"];

/** Card snapshots: one per card per hour; `shift` moves behaviour toward fraud-like patterns. */
export function cardRows(o: DemoDataOptions, hoursBack: number[], shift = 0): CardRow[] {
  const rand = seeded(o.seed + 17 * (shift + 1));
  const rows: CardRow[] = [];
  for (const h of hoursBack) {
    const t = new Date(o.end.getTime() - h * 3600_000);
    for (let card = 1; card <= o.cards; card++) {
      const base = 20 + (card % 50) * 2;
      rows.push({
        card_id: card,
        event_timestamp: t,
        created_timestamp: new Date(t.getTime() + 60_000),
        txn_count_1h: Math.floor(rand() * 4 + rand() * rand() * 6) + shift * (3 + Math.floor(rand() * 8)),
        txn_amount_avg_7d: Math.round((base + amount(rand, 15)) * (1 + shift * 2.5) * 100) / 100,
        txn_amount_max_24h: Math.round((base * 2 + amount(rand, 60)) * (1 + shift * 4) * 100) / 100,
        days_since_first_txn: 30 + Math.floor(rand() * 2000),
        home_country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)] as string,
      });
    }
  }
  return rows;
}

export function merchantRows(o: DemoDataOptions, hoursBack: number[], shift = 0): MerchantRow[] {
  const rand = seeded(o.seed + 101 * (shift + 1));
  const rows: MerchantRow[] = [];
  for (const h of hoursBack) {
    const t = new Date(o.end.getTime() - h * 3600_000);
    for (let m = 1; m <= o.merchants; m++) {
      rows.push({
        merchant_id: m,
        event_timestamp: t,
        created_timestamp: new Date(t.getTime() + 60_000),
        merchant_risk: Math.min(1, Math.round((rand() * 0.3 + (m % 7 === 0 ? 0.3 : 0) + shift * 0.45) * 10000) / 10000),
        chargeback_rate_30d: Math.round((rand() * 0.02 + shift * 0.08) * 100000) / 100000,
        category: CATEGORIES[m % CATEGORIES.length] as string,
      });
    }
  }
  return rows;
}

/** Writes (or appends) rows to DuckDB tables named as the feature views' sources. */
export async function writeOffline(dbPath: string, cards: CardRow[], merchants: MerchantRow[]): Promise<void> {
  const instance = await DuckDBInstance.create(dbPath);
  const db = await instance.connect();
  try {
    await db.run(`CREATE TABLE IF NOT EXISTS card_stats (card_id BIGINT, event_timestamp TIMESTAMPTZ, created_timestamp TIMESTAMPTZ, txn_count_1h BIGINT,
      txn_amount_avg_7d DOUBLE, txn_amount_max_24h DOUBLE, days_since_first_txn INTEGER, home_country VARCHAR)`);
    await db.run(`CREATE TABLE IF NOT EXISTS merchant_stats (merchant_id BIGINT, event_timestamp TIMESTAMPTZ, created_timestamp TIMESTAMPTZ,
      merchant_risk FLOAT, chargeback_rate_30d DOUBLE, category VARCHAR)`);
    await db.run(
      "CREATE TABLE IF NOT EXISTS card_realtime (card_id BIGINT, event_timestamp TIMESTAMPTZ, last_amount DOUBLE, is_foreign BOOLEAN)",
    );
    await db.run(
      "CREATE TABLE IF NOT EXISTS customer_profile (customer_id VARCHAR, event_timestamp TIMESTAMPTZ, tenure_days INTEGER, open_tickets BIGINT, monthly_spend DOUBLE, plan VARCHAR, nps_scores INTEGER[])",
    );
    const cardAppender = await db.createAppender("card_stats");
    for (const r of cards) {
      cardAppender.appendBigInt(BigInt(r.card_id));
      cardAppender.appendVarchar(r.event_timestamp.toISOString());
      cardAppender.appendVarchar(r.created_timestamp.toISOString());
      cardAppender.appendBigInt(BigInt(r.txn_count_1h));
      cardAppender.appendDouble(r.txn_amount_avg_7d);
      cardAppender.appendDouble(r.txn_amount_max_24h);
      cardAppender.appendInteger(r.days_since_first_txn);
      cardAppender.appendVarchar(r.home_country);
      cardAppender.endRow();
    }
    cardAppender.closeSync();
    const merchantAppender = await db.createAppender("merchant_stats");
    for (const r of merchants) {
      merchantAppender.appendBigInt(BigInt(r.merchant_id));
      merchantAppender.appendVarchar(r.event_timestamp.toISOString());
      merchantAppender.appendVarchar(r.created_timestamp.toISOString());
      merchantAppender.appendFloat(r.merchant_risk);
      merchantAppender.appendDouble(r.chargeback_rate_30d);
      merchantAppender.appendVarchar(r.category);
      merchantAppender.endRow();
    }
    merchantAppender.closeSync();
  } finally {
    db.closeSync();
    instance.closeSync?.();
  }
}
