import pg from "pg";

/** The PostgreSQL that scripts/test-env.sh starts (Debian's package); override with PG_URL. */
export const PG_URL = process.env.PG_URL ?? "postgres://mlops:mlops@127.0.0.1:5432/mlops";

/**
 * A fresh schema in the test database, dropped afterwards, so test files do not collide.
 * Fails loudly (never skips) when PostgreSQL is not running.
 */
export async function withSchema(prefix: string): Promise<{ url: string; schema: string; client: pg.Client; drop(): Promise<void> }> {
  const schema = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${PG_URL} (${(error as Error).message}); run scripts/test-env.sh first`);
  }
  await client.query(`CREATE SCHEMA ${schema}`);
  await client.query(`SET search_path TO ${schema}`);
  const url = `${PG_URL}?options=-c%20search_path%3D${schema}`;
  return {
    url,
    schema,
    client,
    drop: async () => {
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}
