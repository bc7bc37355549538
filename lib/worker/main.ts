/**
 * The worker entry point: what a worker thread, a child process (tinypool) and, later, a container
 * run. It takes a task by reference ({ job, task }), runs runTask, and answers with plain data —
 * errors included, since Error subclasses do not survive a thread or process boundary.
 */
import { runGuarded } from "../exec/dispatch.js";
import { runTask } from "../exec/task.js";
import type { JobSpec, TaskSpec } from "../plan/types.js";
import type { WorkerResult } from "../exec/types.js";
import { applyWorkerIo, type WorkerIo } from "./io.js";
import { addTotals, storageMetrics, totalsOf } from "../store/metrics.js";

export default function handle(payload: { job: JobSpec; task: TaskSpec; io?: WorkerIo }): Promise<WorkerResult> {
  if (payload.io) applyWorkerIo(payload.io);
  return runGuarded(async () => {
    // One task at a time per worker, so the difference is this task's own storage traffic.
    const before = totalsOf(storageMetrics.summary());
    const outcome = await runTask(payload.job, payload.task);
    return { ...outcome, storage: addTotals(totalsOf(storageMetrics.summary()), before, -1) };
  });
}
