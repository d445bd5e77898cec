/**
 * The platform's MLflow tracking image (deploy/tracking/Dockerfile, pins in
 * scripts/constraints/tracking.txt) and the drivers it carries. MLflow's upstream image has neither
 * the PostgreSQL driver nor the cloud storage clients the tracking server is configured with, so
 * the server would fail on its first request; this module says which URI schemes our image opens
 * and refuses, at plan time, a configuration it cannot open.
 */

export { DEFAULT_TRACKING_IMAGE, TRACKING_MLFLOW_VERSION } from "../../definition/stack";

/**
 * Python distribution MLflow needs for each scheme: SQLAlchemy 2.1 (the image's) opens
 * postgresql:// with psycopg 3 (2.0 used psycopg2: an image with only psycopg2 fails on the
 * platform's URIs, test/deploy/tracking-pins.test.ts); MLflow's S3 and GCS artifact repositories
 * import boto3 and google.cloud.storage.
 */
export const SCHEME_DRIVERS: Record<string, string> = {
  postgresql: "psycopg",
  "postgresql+psycopg": "psycopg",
  "postgresql+psycopg2": "psycopg2-binary",
  s3: "boto3",
  gs: "google-cloud-storage",
};

export function uriScheme(uri: string): string {
  const m = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri);
  if (!m) throw new Error(`tracking: "${redact(uri)}" is not a URI with a scheme (postgresql://, s3://, gs://)`);
  return (m[1] ?? "").toLowerCase();
}

/** The distributions the image must install to open these URIs; throws for a scheme it cannot open. */
export function driversFor(uris: string[]): string[] {
  return [
    ...new Set(
      uris.map((uri) => {
        const scheme = uriScheme(uri);
        const driver = SCHEME_DRIVERS[scheme];
        if (!driver)
          throw new Error(
            `tracking: the tracking image cannot open ${scheme}:// (it installs drivers for ${Object.keys(SCHEME_DRIVERS).join(", ")}); use one of those or set tracking.image to an image that can`,
          );
        return driver;
      }),
    ),
  ].sort();
}

/** Passwords never reach an error message. */
function redact(uri: string): string {
  return uri.replace(/(^|\/\/)([^:@/]+):[^@/]*@/, "$1$2:***@");
}
