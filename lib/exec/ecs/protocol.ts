/**
 * What the ECS client and its container workers agree on. A run lives inside the output store's
 * bookkeeping prefix (removed when the store completes), so workers need write access to the store
 * only, and a failed run's state stays beside the partial store for --resume:
 *   <store>/.convert-to-zarr/runs/<runId>/manifest.json   the job and its tasks, written once by the client
 *   <store>/.convert-to-zarr/runs/<runId>/claims/<task>   which worker took a task (If-None-Match: *)
 *   <store>/.convert-to-zarr/runs/<runId>/status/<task>   how the task ended, written once by its worker
 * A worker's environment carries only the manifest's URL and its limits (RunTask overrides are
 * limited to 8,192 characters), never task data.
 */
import type { JobSpec, TaskSpec } from "../../plan/types.js";
import type { StoreKey } from "../../store/types.js";
import type { TaskOutcome } from "../task.js";
import type { WireError } from "../types.js";
import type { RemoteMode } from "../../io/open.js";
import type { InputAccess } from "../../store/s3-config.js";
import { STATE_PREFIX } from "../job.js";

export const RUNS_PREFIX = `${STATE_PREFIX}/runs` as const;
export const runPrefix = (runId: string): StoreKey => `${RUNS_PREFIX}/${runId}`;
export const manifestKey = (runId: string): StoreKey => `${runPrefix(runId)}/manifest.json`;
export const claimsPrefix = (runId: string): StoreKey => `${runPrefix(runId)}/claims`;
export const claimKey = (runId: string, task: number): StoreKey => `${claimsPrefix(runId)}/${task}`;
export const statusPrefix = (runId: string): StoreKey => `${runPrefix(runId)}/status`;
export const statusKey = (runId: string, task: number): StoreKey => `${statusPrefix(runId)}/${task}`;
/** The task id at the end of a claim or status key. */
export const taskOfKey = (key: string): number => Number(key.slice(key.lastIndexOf("/") + 1));

/** The task id at the end of a task ARN (the whole name for a worker outside ECS). */
export const shortArn = (arn: string): string => arn.slice(arn.lastIndexOf("/") + 1);

/** Environment variables of a worker container (set through RunTask's container overrides). */
export const ENV = {
  /** The output store's URL: the run lives in it. */
  store: "CONVERT_TO_ZARR_STORE",
  runId: "CONVERT_TO_ZARR_RUN_ID",
  /** The worker stops taking tasks after this many seconds, and exits when a task overruns it. */
  timeout: "CONVERT_TO_ZARR_WORKER_TIMEOUT_S",
} as const;

export interface Manifest {
  version: 1;
  runId: string;
  job: JobSpec;
  tasks: TaskSpec[];
  /** How workers read remote inputs (S3 settings come from the container's own environment and role). */
  remoteMode: RemoteMode;
  /** How workers read s3:// inputs: anonymously, or paying as requester (plain flags, never credentials). */
  inputAccess?: InputAccess;
  /** In-worker attempts per task for failures that may pass (I/O); a dead worker's tasks are the client's to resubmit. */
  attempts: number;
  createdAt: string;
}

export interface Claim {
  worker: string;
  at: string;
}

export type StatusRecord =
  | { ok: true; worker: string; seconds: number; outcome: TaskOutcome }
  | { ok: false; worker: string; seconds: number; error: WireError };
