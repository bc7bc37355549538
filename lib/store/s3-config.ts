/**
 * Which S3 to talk to, decided once per process and passed to workers as plain data (never secrets):
 * 1. an explicit endpoint (option), or the SDK's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL;
 * 2. AWS, when AWS credentials are configured (environment, profile, web identity, container, or
 *    CONVERT_TO_ZARR_S3=aws, e.g. on SageMaker where they come from the instance);
 * 3. the local endpoint started by `npm run s3:local` (its state file says where), when it is running;
 * otherwise a one-line error saying how to get one of these.
 *
 * Inputs may be read with settings of their own (inputS3Settings): unsigned (anonymous, as the AWS
 * CLI's --no-sign-request; also AWS_NO_SIGN_REQUEST=YES as GDAL reads it) for public Open Data
 * buckets, and/or with `x-amz-request-payer: requester` for Requester Pays buckets, while the output
 * store keeps the resolution above. Anonymous inputs need no credentials anywhere: without an
 * explicit endpoint they are read from AWS.
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
  /** Send requests unsigned (anonymous): public buckets only, no credentials looked up. */
  unsigned?: boolean;
  /** Reads acknowledge that the requester pays (Requester Pays buckets). */
  requestPayer?: "requester";
  /** Settings for reading inputs (error messages then suggest --request-payer / credentials). */
  forInputs?: boolean;
}

/** How inputs are read, beyond the output's settings: plain flags, safe to send to workers. */
export interface InputAccess {
  unsigned?: boolean;
  requestPayer?: "requester";
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

/**
 * The region, and an explicit endpoint (option, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) unless
 * CONVERT_TO_ZARR_S3=aws overrides it; a malformed endpoint is a usage error.
 */
function endpointChoice(over: Partial<S3Settings>, env: NodeJS.ProcessEnv): { region: string | undefined; endpoint: string | undefined; choice: string | undefined } {
  const region = over.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const choice = env.CONVERT_TO_ZARR_S3;
  const given = over.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const endpoint = given && choice !== "aws" ? given : undefined;
  if (endpoint) {
    try {
      new URL(endpoint);
    } catch {
      throw new ConvertError("Usage", `S3 endpoint "${endpoint}" is not a URL`);
    }
  }
  return { region, endpoint, choice };
}

export function resolveS3Settings(over: Partial<S3Settings> = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const base = {
    maxAttempts: over.maxAttempts ?? Number(env.AWS_MAX_ATTEMPTS || 5),
    concurrency: over.concurrency ?? 16,
    ...((over.sse ?? sseFromEnv(env)) && { sse: over.sse ?? sseFromEnv(env) }),
  };
  const { region, endpoint, choice } = endpointChoice(over, env);
  if (endpoint) {
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

/**
 * AWS_NO_SIGN_REQUEST as GDAL reads it (the AWS CLI has only the --no-sign-request option):
 * YES/TRUE/ON/1 sign nothing, NO/FALSE/OFF/0 or unset sign as usual; case does not matter.
 */
export function noSignRequestFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env.AWS_NO_SIGN_REQUEST ?? "").trim().toLowerCase();
  if (["", "no", "false", "off", "0"].includes(v)) return false;
  if (["yes", "true", "on", "1"].includes(v)) return true;
  throw new ConvertError("Usage", `AWS_NO_SIGN_REQUEST must be YES/TRUE/1 or NO/FALSE/0, not "${env.AWS_NO_SIGN_REQUEST}"`);
}

/**
 * The settings for reading inputs. Signed: the output's resolution, plus the Requester Pays flag.
 * Unsigned: an explicit endpoint (option, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), the running local
 * endpoint when CONVERT_TO_ZARR_S3=local, otherwise AWS — never an error for missing credentials.
 * On AWS the bucket's region is found from S3's answers when the configured one is wrong or absent.
 */
export function resolveInputS3Settings(over: Partial<S3Settings> = {}, env: NodeJS.ProcessEnv = process.env): S3Settings {
  const unsigned = over.unsigned ?? noSignRequestFromEnv(env);
  const payer = over.requestPayer ? { requestPayer: over.requestPayer } : {};
  if (!unsigned) {
    const { sse: _sse, ...signed } = resolveS3Settings(over, env);
    return { ...signed, ...payer, unsigned: false, forInputs: true };
  }
  if (over.requestPayer) {
    throw new ConvertError("Usage", "--request-payer requester needs signed requests: Requester Pays buckets refuse anonymous ones (drop --no-sign-request / AWS_NO_SIGN_REQUEST)");
  }
  const base = { maxAttempts: over.maxAttempts ?? Number(env.AWS_MAX_ATTEMPTS || 5), concurrency: over.concurrency ?? 16, unsigned: true, forInputs: true, localCredentials: false };
  const { region, endpoint, choice } = endpointChoice(over, env);
  if (endpoint) {
    return { ...base, endpoint, region: region ?? LOCAL_REGION, forcePathStyle: over.forcePathStyle ?? true, source: `endpoint ${endpoint}, unsigned` };
  }
  const local = choice === "local" ? readLocalState(env) : undefined;
  if (local) return { ...base, endpoint: local.endpoint, region: LOCAL_REGION, forcePathStyle: true, source: `local endpoint ${local.endpoint}, unsigned` };
  return { ...base, ...(region && { region }), forcePathStyle: over.forcePathStyle ?? false, source: "AWS, unsigned" };
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

let inputAccess: InputAccess = {};
let activeInput: S3Settings | undefined;
/** Derived from the output's settings (no flags): remembered per output settings object. */
let derived: { from: S3Settings; settings: S3Settings } | undefined;

/** How inputs are read (the CLI's --no-sign-request / --request-payer); resolved on first use. */
export function setInputAccess(a: InputAccess): void {
  inputAccess = { ...(a.unsigned !== undefined && { unsigned: a.unsigned }), ...(a.requestPayer && { requestPayer: a.requestPayer }) };
  activeInput = undefined;
}

export const currentInputAccess = (): InputAccess => inputAccess;

/**
 * The settings for reading s3:// inputs (and listing them for globs): those set with
 * useInputS3Settings, else resolved from the input access flags and the environment; with neither
 * flags nor AWS_NO_SIGN_REQUEST, the output's S3 (s3Settings()), so a library user who points this
 * process at one endpoint reads and writes there.
 */
export function inputS3Settings(): S3Settings {
  if (activeInput) return activeInput;
  const unsigned = inputAccess.unsigned ?? noSignRequestFromEnv();
  if (unsigned || inputAccess.requestPayer) {
    activeInput = resolveInputS3Settings({ unsigned, ...(inputAccess.requestPayer && { requestPayer: inputAccess.requestPayer }) });
    return activeInput;
  }
  const out = s3Settings();
  if (derived?.from !== out) {
    const { sse: _sse, ...rest } = out;
    derived = { from: out, settings: { ...rest, forInputs: true } };
  }
  return derived.settings;
}

/** Sets (or with undefined, forgets) the input settings explicitly, e.g. in workers or the notebook. */
export function useInputS3Settings(s: S3Settings | undefined): void {
  activeInput = s;
}

/** The input settings if set or resolved already, for passing to workers without forcing a resolution. */
export const activeInputS3Settings = (): S3Settings | undefined => activeInput;
