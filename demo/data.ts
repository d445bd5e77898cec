import { DuckDBInstance } from "@duckdb/node-api";

/** Size of the generated fraud-scoring world. */
export interface DemoDataOptions {
  cards: number;
  merchants: number;
  /** Hourly merchant snapshots over this many hours, ending at `end` (card transactions cover 8 days). */
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

/** One raw card transaction: the events card_stats aggregates (catalog/features/fraud.yaml). */
export interface TransactionRow {
  card_id: number;
  merchant_id: number;
  amount: number;
  event_timestamp: Date;
}

export interface CardProfileRow {
  card_id: number;
  event_timestamp: Date;
  created_timestamp: Date;
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

/** Transactions per card per hour: between 0.2 and 0.8, so txn_count_1h has a spread. */
function cardRate(card: number): number {
  return 0.2 + (card % 7) * 0.1;
}

/** Every card also pays a subscription every 8 hours, so no 24-hour window is empty (serving refuses a null feature). */
const RECURRING_MS = 8 * 3600_000;

/**
 * Raw transactions of every card in (from, to]: a Poisson process per card at its own rate, with
 * amounts around the card's usual spend, plus its subscription.
 */
export function transactionRows(o: Pick<DemoDataOptions, "cards" | "merchants" | "seed">, from: Date, to: Date): TransactionRow[] {
  const rand = seeded(o.seed + 17 + Math.floor(from.getTime() / 1000));
  const rows: TransactionRow[] = [];
  for (let card = 1; card <= o.cards; card++) {
    const rate = cardRate(card);
    const base = 20 + (card % 50) * 2;
    const phase = (card * 37 * 60_000) % RECURRING_MS;
    for (let t = Math.floor(from.getTime() / RECURRING_MS) * RECURRING_MS + phase; t <= to.getTime(); t += RECURRING_MS)
      if (t > from.getTime())
        rows.push({ card_id: card, merchant_id: 1 + (card % o.merchants), amount: base, event_timestamp: new Date(t) });
    let t = from.getTime();
    for (;;) {
      // Exponential gaps (hours -> ms), rounded to the millisecond as a card network stamps them.
      t += Math.max(1, Math.round((-Math.log(1 - rand()) / rate) * 3600_000));
      if (t > to.getTime()) break;
      rows.push({
        card_id: card,
        merchant_id: 1 + Math.floor(rand() * o.merchants),
        amount: Math.round((base + amount(rand, 15)) * 100) / 100,
        event_timestamp: new Date(t),
      });
    }
  }
  return rows;
}

/**
 * Fraud-like bursts: 3 to 10 transactions per card in (from, to], at three to five times the
 * card's usual amounts (the drift check must notice).
 */
export function fraudBurstRows(o: Pick<DemoDataOptions, "cards" | "merchants" | "seed">, from: Date, to: Date): TransactionRow[] {
  const rand = seeded(o.seed + 53);
  const span = to.getTime() - from.getTime();
  return Array.from({ length: o.cards }, (_, i) => i + 1).flatMap((card) =>
    Array.from({ length: 3 + Math.floor(rand() * 8) }, () => ({
      card_id: card,
      merchant_id: 1 + Math.floor(rand() * o.merchants),
      amount: Math.round((20 + (card % 50) * 2 + amount(rand, 15)) * (3 + 2 * rand()) * 100) / 100,
      event_timestamp: new Date(from.getTime() + 1 + Math.floor(rand() * (span - 1))),
    })),
  );
}

/** One profile row per card, at `at`. */
export function cardProfileRows(o: Pick<DemoDataOptions, "cards" | "seed">, at: Date): CardProfileRow[] {
  const rand = seeded(o.seed + 29);
  return Array.from({ length: o.cards }, (_, i) => ({
    card_id: i + 1,
    event_timestamp: at,
    created_timestamp: new Date(at.getTime() + 60_000),
    days_since_first_txn: 30 + Math.floor(rand() * 2000),
    home_country: COUNTRIES[Math.floor(rand() * COUNTRIES.length)] as string,
  }));
}

/** A push body (Feast's dict of columns) of transactions, for `/push` to `transactions_push`. */
export function transactionsDf(rows: TransactionRow[]): Record<string, unknown[]> {
  return {
    card_id: rows.map((r) => r.card_id),
    merchant_id: rows.map((r) => r.merchant_id),
    amount: rows.map((r) => r.amount),
    event_timestamp: rows.map((r) => r.event_timestamp.toISOString()),
  };
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

/** What the demo writes to the offline store before the services start. */
export interface OfflineData {
  transactions: TransactionRow[];
  profiles: CardProfileRow[];
  merchants: MerchantRow[];
}

/** Writes (or appends) rows to DuckDB tables named as the feature views' sources. */
export async function writeOffline(dbPath: string, data: OfflineData): Promise<void> {
  const instance = await DuckDBInstance.create(dbPath);
  const db = await instance.connect();
  try {
    await db.run(
      "CREATE TABLE IF NOT EXISTS transactions (card_id BIGINT, merchant_id BIGINT, amount DOUBLE, event_timestamp TIMESTAMPTZ)",
    );
    await db.run(`CREATE TABLE IF NOT EXISTS card_profile (card_id BIGINT, event_timestamp TIMESTAMPTZ, created_timestamp TIMESTAMPTZ,
      days_since_first_txn INTEGER, home_country VARCHAR)`);
    await db.run(`CREATE TABLE IF NOT EXISTS merchant_stats (merchant_id BIGINT, event_timestamp TIMESTAMPTZ, created_timestamp TIMESTAMPTZ,
      merchant_risk FLOAT, chargeback_rate_30d DOUBLE, category VARCHAR)`);
    await db.run(
      "CREATE TABLE IF NOT EXISTS card_realtime (card_id BIGINT, event_timestamp TIMESTAMPTZ, last_amount DOUBLE, is_foreign BOOLEAN)",
    );
    await db.run(
      "CREATE TABLE IF NOT EXISTS customer_profile (customer_id VARCHAR, event_timestamp TIMESTAMPTZ, tenure_days INTEGER, open_tickets BIGINT, monthly_spend DOUBLE, plan VARCHAR, nps_scores INTEGER[])",
    );
    const transactions = await db.createAppender("transactions");
    for (const r of data.transactions) {
      transactions.appendBigInt(BigInt(r.card_id));
      transactions.appendBigInt(BigInt(r.merchant_id));
      transactions.appendDouble(r.amount);
      transactions.appendVarchar(r.event_timestamp.toISOString());
      transactions.endRow();
    }
    transactions.closeSync();
    const profiles = await db.createAppender("card_profile");
    for (const r of data.profiles) {
      profiles.appendBigInt(BigInt(r.card_id));
      profiles.appendVarchar(r.event_timestamp.toISOString());
      profiles.appendVarchar(r.created_timestamp.toISOString());
      profiles.appendInteger(r.days_since_first_txn);
      profiles.appendVarchar(r.home_country);
      profiles.endRow();
    }
    profiles.closeSync();
    const merchantAppender = await db.createAppender("merchant_stats");
    for (const r of data.merchants) {
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
