import type { JobSpec, TaskSpec } from "../plan/types.js";
import { dispatch, runGuarded } from "./dispatch.js";
import { runTask } from "./task.js";
import type { ExecOptions, Executor } from "./types.js";

/** Runs tasks in this thread, one at a time (reads are synchronous anyway). */
export class InlineExecutor implements Executor {
  readonly name = "inline" as const;
  run(job: JobSpec, tasks: readonly TaskSpec[], opts: ExecOptions) {
    return dispatch(tasks, (t) => runGuarded(async () => ({ outcome: await runTask(job, t) })), { ...opts, workers: 1 });
  }
  async cancel() {}
  async close() {}
}
