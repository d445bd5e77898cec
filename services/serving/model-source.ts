import { createWriteStream, existsSync, mkdtempSync, statSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Storage } from "@google-cloud/storage";
import { parse as parseYaml } from "yaml";
import { MlflowClient } from "../core";

/** Where remote models come from, and the clients to fetch them with. */
export interface ModelSourceOptions {
  /** MLflow tracking server for `models:/` URIs. Defaults to MLFLOW_TRACKING_URI. */
  mlflowTrackingUri?: string;
  /** S3 client (region, endpoint and credentials from the environment by default, i.e. IRSA in EKS). */
  s3?: S3Client;
  /** GCS client (Workload Identity in GKE by default). */
  gcs?: Storage;
  /** Deadline for one download, in ms. Defaults to 120 s (MLflow API calls: 20 s each). */
  timeoutMs?: number;
}

/** A model file on local disk; `cleanup` removes it when it was downloaded. */
export interface LocalModel {
  path: string;
  cleanup(): Promise<void>;
}

/** The file an MLflow ONNX model directory and our own directories hold. */
const DEFAULT_FILE = "model.onnx";

/**
 * Resolves a model URI to a local file: a path (or file://), s3://bucket/key, gs://bucket/key,
 * or MLflow's models:/<name>/<version>. A URI ending in "/" (or a local directory) names a
 * model directory and its model.onnx is used.
 */
export async function fetchModel(uri: string, options: ModelSourceOptions = {}): Promise<LocalModel> {
  if (uri.startsWith("models:/")) return fetchFromMlflow(uri, options);
  if (uri.startsWith("s3://") || uri.startsWith("gs://")) {
    const { bucket, key } = splitBucketUri(uri);
    const dir = mkdtempSync(join(tmpdir(), "serving-model-"));
    const path = join(dir, DEFAULT_FILE);
    const cleanup = () => rm(dir, { recursive: true, force: true });
    try {
      if (uri.startsWith("s3://")) await downloadS3(options.s3 ?? new S3Client({}), bucket, key, path, options.timeoutMs ?? 120_000);
      else await (options.gcs ?? new Storage()).bucket(bucket).file(key).download({ destination: path });
    } catch (error) {
      await cleanup();
      throw new Error(`could not download model ${uri}: ${(error as Error).message}`);
    }
    return { path, cleanup };
  }
  const local = uri.startsWith("file://") ? new URL(uri).pathname : uri;
  if (!existsSync(local))
    throw new Error(`model file ${local} does not exist; give a path to a .onnx file, s3://, gs:// or models:/<name>/<version>`);
  const path = statSync(local).isDirectory() ? join(local, DEFAULT_FILE) : local;
  if (!existsSync(path)) throw new Error(`model directory ${local} has no ${DEFAULT_FILE}`);
  return { path, cleanup: async () => {} };
}

/** s3://bucket/a/b -> {bucket, key: "a/b"}; a trailing "/" means the directory's model.onnx. */
export function splitBucketUri(uri: string): { bucket: string; key: string } {
  const match = /^(?:s3|gs):\/\/([^/]+)\/(.*)$/.exec(uri);
  if (!match?.[1] || match[2] === undefined)
    throw new Error(`${uri} is not a bucket URI; write it as s3://<bucket>/<key> or gs://<bucket>/<key>`);
  const key = match[2] === "" || match[2].endsWith("/") ? `${match[2]}${DEFAULT_FILE}` : match[2];
  return { bucket: match[1], key };
}

async function downloadS3(s3: S3Client, bucket: string, key: string, path: string, timeoutMs: number): Promise<void> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: AbortSignal.timeout(timeoutMs) });
  if (!object.Body) throw new Error(`s3://${bucket}/${key} has no body`);
  await pipeline(object.Body as Readable, createWriteStream(path));
}

/**
 * models:/<name>/<version> (or @<alias>) through the MLflow REST API (the shared MlflowClient):
 * `model-versions/get` (or `registered-models/alias`) names the version and
 * `model-versions/get-download-uri` where its files are (MLflow 3's `source` is `models:/m-<id>`,
 * a logged model, not a path); an `mlflow-artifacts:` location is downloaded through the tracking server's proxied artifact API
 * (`/api/2.0/mlflow-artifacts/artifacts/<path>`), so pods need no bucket credentials; an s3://
 * or gs:// source is read from the bucket. The ONNX file name comes from the MLmodel file's onnx
 * flavor (`data:`), model.onnx when there is none.
 */
async function fetchFromMlflow(uri: string, options: ModelSourceOptions): Promise<LocalModel> {
  const tracking = options.mlflowTrackingUri ?? process.env.MLFLOW_TRACKING_URI;
  if (!tracking) throw new Error(`${uri} needs an MLflow tracking server: set MLFLOW_TRACKING_URI (or --mlflow-tracking-uri)`);
  const mlflow = new MlflowClient(tracking, { timeoutMs: options.timeoutMs ?? 20_000 });
  let source: string;
  try {
    const version = await mlflow.resolveModelUri(uri);
    source = await mlflow.getDownloadUri(version.name, version.version);
  } catch (error) {
    throw new Error(`MLflow could not resolve ${uri}: ${(error as Error).message}`);
  }
  if (source.startsWith("s3://") || source.startsWith("gs://")) {
    return fetchModel(source.endsWith(".onnx") ? source : `${source.replace(/\/$/, "")}/`, options);
  }
  if (!source.startsWith("mlflow-artifacts:"))
    throw new Error(`MLflow model ${uri} lives at ${source}; only mlflow-artifacts:, s3:// and gs:// sources can be served`);
  let bytes: Buffer;
  try {
    if (source.endsWith(".onnx")) bytes = await mlflow.downloadArtifact(source);
    else {
      const mlmodel = await mlflow.downloadArtifact(source, "MLmodel").catch(() => undefined);
      const flavors = mlmodel
        ? (parseYaml(mlmodel.toString("utf8")) as { flavors?: { onnx?: { data?: string } } } | null)?.flavors
        : undefined;
      bytes = await mlflow.downloadArtifact(source, flavors?.onnx?.data ?? DEFAULT_FILE);
    }
  } catch (error) {
    throw new Error(`could not download ${uri} (${source}) from MLflow: ${(error as Error).message}`);
  }
  const dir = mkdtempSync(join(tmpdir(), "serving-model-"));
  const path = join(dir, DEFAULT_FILE);
  await writeFile(path, bytes);
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
