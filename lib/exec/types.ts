import type { JobSpec, PlanEstimates, TaskSpec } from "../plan/types.js";
import type { StepResult, TaskOutcome } from "./task.js";
import type { CostEstimate } from "./ecs/cost.js";

export type ExecutorName = "inline" | "threads" | "process" | "ecs";

/** What an executor reports besides finished tasks (the ECS executor: its cost and its workers). */
export type ExecEvent =
  | { type: "estimate"; estimate: CostEstimate }
  | { type: "workers-started"; workers: string[]; running: number }
  | { type: "worker-stopped"; worker: string; exitCode: number | null; reason: string; resubmitted: number[] }
  | { type: "worker-overran"; worker: string; seconds: number };

export interface ExecOptions {
  /** Tasks running at once. */
  workers: number;
  /** Attempts per task before the run fails (default 3); only failures that may pass are retried. */
  attempts?: number;
  onTaskDone?: (o: TaskOutcome) => void;
  onEvent?: (e: ExecEvent) => void;
  /** The plan's estimates, for executors that price a run before starting it. */
  estimates?: Pick<PlanEstimates, "tasks" | "objects" | "bytesRead">;
  signal?: AbortSignal;
}

/** Runs a job's tasks somewhere; every executor runs the same runTask. */
export interface Executor {
  readonly name: ExecutorName;
  run(job: JobSpec, tasks: readonly TaskSpec[], opts: ExecOptions): Promise<TaskOutcome[]>;
  /** Starts its workers and loads what every task needs, before the job is known (optional). */
  warm?(workers: number): Promise<void>;
  /** Stops whatever the executor started (a kernel interrupt, a notebook's clean-up cell). */
  cancel(): Promise<void>;
  close(): Promise<void>;
}

/** A task's error as it crosses a thread or process boundary (Error subclasses do not survive). */
export interface WireError {
  tag?: string;
  message: string;
  path?: string;
  retryable: boolean;
}

/**
 * A step's result; `shared` when a read step left its block for others to encode, `unused` when it
 * did not use the memory it was lent (dispatch.ts).
 */
export type WorkerResult = ({ ok: true } & StepResult) | { ok: false; error: WireError };
