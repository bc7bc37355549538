/**
 * Which S3 to talk to, decided once per process and passed to workers as plain data (never secrets):
 * 1. an explicit endpoint (option), or the SDK's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL;
 * 2. AWS, when AWS credentials are configured (environment, profile, web identity, container, or
 *    CONVERT_TO_ZARR_S3=aws, e.g. on SageMaker where they come from the instance);
 * 3. the local endpoint started by `npm run s3:local` (its state file says where), when it is running;
 * otherwise a one-line error saying how to get one of these.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConvertError } from "../errors.js";
import { readLiveState, stateFilePath } from "../local-state.js";

export interface S3Settings {
  /** undefined: AWS's own endpoints. */
  endpoint?: string;
  region?: string;
  forcePathStyle: boolean;
  /** Sign with the local endpoint's fixed, public credentials instead of the SDK's chain. */
  localCredentials: boolean;
  /** Attempts per request, first included (the SDK's standard retry mode: backoff with jitter). */
  maxAttempts: number;
  /** Requests in flight per store. */
  concurrency: number;
  /** Server-side encryption of written objects. */
  sse?: { mode: "AES256" | "aws:kms"; kmsKeyId?: string };
  /** How this was chosen, for messages and reports. */
  source: string;
}

/** The credentials s3rver accepts; public knowledge, never used against AWS. */
export const LOCAL_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const LOCAL_REGION = "us-east-1";

/** Where `npm run s3:local` records its endpoint while it runs. */
export function localStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return stateFilePath("s3-local", env.CONVERT_TO_ZARR_S3_LOCAL_STATE, env);
}

export interface LocalEndpointState {
  endpoint: string;
  dataDir: string;
  pid: number;
}

export function readLocalState(env: NodeJS.ProcessEnv = process.env): LocalEndpointState | undefined {
  return readLiveState<LocalEndpointState>(localStateFile(env));
}

export function hasAwsCredentials(env: NodeJS.ProcessEnv): boolean {
  if (env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE) return true;
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return true;
  const dir = join(env.HOME || homedir(), ".aws");
  return existsSync(join(dir, "credentials")) || existsSync(join(dir, "config"));
}

function sseFromEnv(env: NodeJS.ProcessEnv): S3Settings["sse"] {
  const mode = env.CONVERT_TO_ZARR_SSE;
  if (!mode) return undefined;
  if (mode !== "AES256" && mode !== "aws:kms") throw new ConvertError("Usage", `CONVERT_TO_ZARR_SSE must be AES256 or aws:kms, not "${mode}"`);
  return { mode, ...(env.CONVERT_TO_ZARR_SSE_KMS_KEY_ID && { kmsKeyId: env.CONVERT_TO_ZARR_SSE_KMS_KEY_ID }) };
}

export const isLoopback = (endpoint: string): boolean => {
  const h = new URL(endpoint).hostname;
  return h === "127.0.0.1" || h === "localhost" || h === "[::1]";
};

export function resolveS3Settings(over: Partial<S3Settings> = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const base = {
    maxAttempts: over.maxAttempts ?? Number(env.AWS_MAX_ATTEMPTS || 5),
    concurrency: over.concurrency ?? 16,
    ...((over.sse ?? sseFromEnv(env)) && { sse: over.sse ?? sseFromEnv(env) }),
  };
  const region = over.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const endpoint = over.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const choice = env.CONVERT_TO_ZARR_S3;
  if (endpoint && choice !== "aws") {
    try {
      new URL(endpoint);
    } catch {
      throw new ConvertError("Usage", `S3 endpoint "${endpoint}" is not a URL`);
    }
    // A loopback endpoint without credentials of its own is our local emulator.
    const local = over.localCredentials ?? (choice === "local" || (isLoopback(endpoint) && !env.AWS_ACCESS_KEY_ID));
    return { ...base, endpoint, region: region ?? LOCAL_REGION, forcePathStyle: over.forcePathStyle ?? true, localCredentials: local, source: `endpoint ${endpoint}` };
  }
  if (choice === "aws" || (choice !== "local" && hasAwsCredentials(env))) {
    return { ...base, ...(region && { region }), forcePathStyle: over.forcePathStyle ?? false, localCredentials: false, source: "AWS" };
  }
  const local = readLocalState(env);
  if (local) {
    return { ...base, endpoint: local.endpoint, region: LOCAL_REGION, forcePathStyle: true, localCredentials: true, source: `local endpoint ${local.endpoint}` };
  }
  throw new ConvertError("Usage", "no AWS credentials and no local S3 endpoint running: start one with `npm run s3:local`, or set AWS_ENDPOINT_URL_S3");
}

let active: S3Settings | undefined;

/** The settings this process uses (resolved on first use); workers receive them from the main thread. */
export function s3Settings(): S3Settings {
  active ??= resolveS3Settings();
  return active;
}

export function useS3Settings(s: S3Settings | undefined): void {
  active = s;
}

/** The settings if any S3 is in use already, for passing to workers without forcing a resolution. */
export const activeS3Settings = (): S3Settings | undefined => active;
