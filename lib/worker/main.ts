/**
 * The worker entry point: what a worker thread, a child process (tinypool) and, later, a container
 * run. It takes a task by reference ({ job, task }), runs runTask, and answers with plain data —
 * errors included, since Error subclasses do not survive a thread or process boundary.
 */
import { runGuarded } from "../exec/dispatch.js";
import { runTask } from "../exec/task.js";
import type { JobSpec, TaskSpec } from "../plan/types.js";
import type { WorkerResult } from "../exec/types.js";

export default function handle(payload: { job: JobSpec; task: TaskSpec }): Promise<WorkerResult> {
  return runGuarded(() => runTask(payload.job, payload.task));
}
