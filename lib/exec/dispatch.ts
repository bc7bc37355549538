/**
 * Shared by every executor: keeps `workers` tasks in flight, retries a failed task (bounded) when
 * its failure may pass (a crashed worker, an I/O error), and otherwise fails the run with the task,
 * the file and the cause. Written by hand: it is the retry and error policy, ~60 lines, and the
 * pools underneath (tinypool) already do the queueing.
 */
import { ConvertError, isConvertError, oneLine, type ErrorTag } from "../errors.js";
import type { TaskSpec } from "../plan/types.js";
import type { TaskOutcome } from "./task.js";
import type { ExecOptions, WireError, WorkerResult } from "./types.js";

/** Bad data stays bad: such failures are not retried. */
const DETERMINISTIC: ReadonlySet<string> = new Set<ErrorTag>(["Corrupt", "Unsupported", "Usage", "Mismatch", "NotNetCDF", "NotFound"]);

export function toWire(e: unknown): WireError {
  if (isConvertError(e)) {
    return { tag: e._tag, message: e.message, ...(e.path && { path: e.path }), retryable: !DETERMINISTIC.has(e._tag) };
  }
  return { message: oneLine(e), retryable: true };
}

export async function runGuarded(run: () => Promise<TaskOutcome>): Promise<WorkerResult> {
  try {
    return { ok: true, outcome: await run() };
  } catch (e) {
    return { ok: false, error: toWire(e) };
  }
}

export function describeTask(t: TaskSpec): string {
  const region = t.start.map((s, i) => `${s}:${s + t.count[i]!}`).join(", ");
  return `task ${t.id} (${t.array}[${region}])`;
}

export async function dispatch(
  tasks: readonly TaskSpec[],
  runOne: (t: TaskSpec) => Promise<WorkerResult>,
  opts: ExecOptions,
): Promise<TaskOutcome[]> {
  const attempts = opts.attempts ?? 3;
  const queue = tasks.map((t) => ({ t, attempt: 1 }));
  const results: TaskOutcome[] = [];
  let failure: ConvertError | undefined;
  const worker = async () => {
    while (!failure && queue.length) {
      if (opts.signal?.aborted) {
        failure = new ConvertError("Usage", "cancelled");
        break;
      }
      const item = queue.shift()!;
      let r: WorkerResult;
      try {
        r = await runOne(item.t);
      } catch (e) {
        r = { ok: false, error: { message: `worker failed: ${oneLine(e)}`, retryable: true } };
      }
      if (r.ok) {
        results.push(r.outcome);
        opts.onTaskDone?.(r.outcome);
      } else if (r.error.retryable && item.attempt < attempts) {
        queue.push({ t: item.t, attempt: item.attempt + 1 });
      } else {
        const times = item.attempt > 1 ? ` after ${item.attempt} attempts` : "";
        failure = new ConvertError((r.error.tag as ErrorTag) ?? "Unreadable", `${describeTask(item.t)} failed${times}: ${r.error.message}`, r.error.path);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers, tasks.length)) }, worker));
  if (failure) throw failure;
  return results;
}
