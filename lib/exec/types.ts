import type { JobSpec, TaskSpec } from "../plan/types.js";
import type { TaskOutcome } from "./task.js";

export type ExecutorName = "inline" | "threads" | "process";

export interface ExecOptions {
  /** Tasks running at once. */
  workers: number;
  /** Attempts per task before the run fails (default 3); only failures that may pass are retried. */
  attempts?: number;
  onTaskDone?: (o: TaskOutcome) => void;
  signal?: AbortSignal;
}

/** Runs a job's tasks somewhere; every executor runs the same runTask. */
export interface Executor {
  readonly name: ExecutorName;
  run(job: JobSpec, tasks: readonly TaskSpec[], opts: ExecOptions): Promise<TaskOutcome[]>;
  close(): Promise<void>;
}

/** A task's error as it crosses a thread or process boundary (Error subclasses do not survive). */
export interface WireError {
  tag?: string;
  message: string;
  path?: string;
  retryable: boolean;
}

export type WorkerResult = { ok: true; outcome: TaskOutcome } | { ok: false; error: WireError };
