/**
 * What the notebook does besides displaying: choose where to work (the local default or AWS), make
 * the sample-shaped data, upload it, time a query, and clean up what it created.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConvertError } from "../errors.js";
import { coldStart, measure } from "../bench/run.js";
import type { QueryResult, QuerySpec } from "../bench/queries.js";
import type { QueryDataset } from "../bench/readers.js";
import { startLocalS3, type LocalS3 } from "../s3local/start.js";
import { S3Store } from "../store/s3.js";
import { resolveS3Settings, useS3Settings } from "../store/s3-config.js";
import { parseS3Url } from "../store/s3-url.js";
import { readStackConfig, type StackConfig } from "../exec/ecs/config.js";
import { stopPoolWorkers } from "../exec/ecs/executor.js";

export { readStackConfig, type StackConfig };

export { uploadFiles } from "../store/upload.js";

export interface NotebookEnv {
  mode: "local" | "aws";
  /** The deployed stack's resources (AWS mode, when its config is present). */
  stack?: StackConfig;
  /** s3://bucket/prefix under which the notebook puts everything it creates. */
  base: string;
  /** The local endpoint, when the notebook started one. */
  local?: LocalS3;
  describe: string;
}

/**
 * AWS when AWS credentials are configured (or CONVERT_TO_ZARR_S3=aws, e.g. an instance role) and a
 * bucket is known — CONVERT_TO_ZARR_BUCKET, else the deployed stack's config file (readStackConfig);
 * otherwise the local default: a local S3 endpoint started here, its objects as files under `dataDir`.
 * Setting CONVERT_TO_ZARR_S3=local forces the local default.
 */
export async function notebookEnvironment(o: { dataDir: string; bucket?: string; env?: NodeJS.ProcessEnv }): Promise<NotebookEnv> {
  const env = o.env ?? process.env;
  const stack = env.CONVERT_TO_ZARR_S3 === "local" ? undefined : readStackConfig(env);
  const bucket = env.CONVERT_TO_ZARR_BUCKET || stack?.bucket;
  let aws = false;
  try {
    aws = !!bucket && resolveS3Settings({}, { ...env, AWS_ENDPOINT_URL_S3: "", AWS_ENDPOINT_URL: "" }).source === "AWS";
  } catch {
    aws = false;
  }
  if (aws) {
    const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? stack?.region;
    useS3Settings(resolveS3Settings({ ...(region && { region }) }, { ...env, AWS_ENDPOINT_URL_S3: "", AWS_ENDPOINT_URL: "" }));
    const pool = stack?.cluster ? `; worker pool: ECS cluster ${stack.cluster}, task definition ${stack.taskDefinition ?? "?"}` : "";
    return {
      mode: "aws", base: `s3://${bucket}/convert-to-zarr-notebook`, ...(stack && { stack }),
      describe: `AWS: s3://${bucket}/convert-to-zarr-notebook (region ${region ?? "from your profile"})${pool}`,
    };
  }
  const name = o.bucket ?? "convert-to-zarr-demo";
  const local = await startLocalS3({ dataDir: resolve(o.dataDir), buckets: [name] });
  useS3Settings(local.settings);
  return {
    mode: "local", base: `s3://${name}`, local,
    describe: `local default: S3-compatible endpoint ${local.endpoint} (objects under ${local.dataDir}), worker threads, no cloud account`,
  };
}

/** A daily archive shaped like the original sample's (tools/make_daily_archive.py); its files in order. */
export function makeDailyArchive(dir: string, o: { days: number; nlat: number; nlon: number; start?: string }): string[] {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const args = [resolve("tools/make_daily_archive.py"), dir, "--days", String(o.days), "--nlat", String(o.nlat), "--nlon", String(o.nlon), ...(o.start ? ["--start", o.start] : [])];
  const r = spawnSync("/usr/bin/python3", args, { encoding: "utf8" });
  if (r.status !== 0) throw new ConvertError("Usage", `generating the archive failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`);
  return readdirSync(dir).filter((f) => f.endsWith(".nc")).sort().map((f) => join(dir, f));
}

export interface TimedQuery {
  result: QueryResult;
  ms: number;
  requests: number;
  bytes: number;
  describe: string;
}

/** One cold query (fresh clients and caches) with its time, requests and bytes, as the benchmark measures it. */
export async function timeQuery(open: () => Promise<QueryDataset>, spec: QuerySpec): Promise<TimedQuery> {
  coldStart();
  const { m, result, ds } = await measure(open, spec);
  ds.close();
  return { result, ms: m.ms, requests: m.requests, bytes: m.bytes, describe: result.query.describe };
}

/** Deletes everything the notebook wrote under its prefix and stops the local endpoint it started. */
export async function cleanUp(env: NotebookEnv): Promise<string> {
  // Workers first: a run interrupted in the kernel may have left some running (and billing).
  const workers = env.stack?.cluster ? await stopPoolWorkers() : 0;
  const loc = parseS3Url(env.base);
  const store = new S3Store(env.base);
  let n = 0;
  for await (const _ of store.list("/")) n++;
  await store.deletePrefix("/");
  await env.local?.stop();
  const stopped = env.stack?.cluster ? `stopped ${workers} ECS worker${workers === 1 ? "" : "s"}; ` : "";
  return `${stopped}deleted ${n} objects under s3://${loc.bucket}/${loc.prefix}${env.local ? "; stopped the local endpoint" : ""}`;
}
