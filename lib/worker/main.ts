/**
 * The worker entry point: what a worker thread, a child process (tinypool) and, later, a container
 * run. It takes a task by reference ({ job, task }) and the step to run of it (the whole task, or
 * a step of a split one, see dispatch.ts), and answers with plain data — errors included, since
 * Error subclasses do not survive a thread or process boundary.
 */
import { runGuarded, type Step } from "../exec/dispatch.js";
import { encodeShared, finishTask, readShared, runTask } from "../exec/task.js";
import type { JobSpec, TaskSpec } from "../plan/types.js";
import type { WorkerResult } from "../exec/types.js";
import { applyWorkerIo, type WorkerIo } from "./io.js";
import { addTotals, storageMetrics, totalsOf } from "../store/metrics.js";
import { loadH5wasm } from "../source/netcdf4.js";
import { zstdAddon } from "../zarr/zstd-addon.js";

export interface TaskPayload {
  job: JobSpec;
  task: TaskSpec;
  io?: WorkerIo;
  step?: Step;
}

/** A task's step, or (before the job is known) a call to load what every task needs. */
export type WorkerPayload = TaskPayload | { warm: true };

function runStep(job: JobSpec, task: TaskSpec, step: Step) {
  switch (step.kind) {
    case "task": return runTask(job, task).then((outcome) => ({ outcome }));
    case "read": return readShared(job, task, step.memory);
    case "encode": return encodeShared(job, task, step.shared, step.from, step.to).then((outcome) => ({ outcome }));
    case "finish": return finishTask(job, step.outcome).then((outcome) => ({ outcome }));
  }
}

export default function handle(payload: WorkerPayload): Promise<WorkerResult | { warmed: true }> {
  return "warm" in payload ? warmUp() : runPayload(payload);
}

/** h5wasm compiles in ~0.1 s: done while the main thread still opens the inputs. */
async function warmUp(): Promise<{ warmed: true }> {
  await loadH5wasm();
  zstdAddon();
  return { warmed: true };
}

export function runPayload(payload: TaskPayload): Promise<WorkerResult> {
  if (payload.io) applyWorkerIo(payload.io);
  return runGuarded(async () => {
    // One step at a time per worker, so the difference is this step's own storage traffic.
    const before = totalsOf(storageMetrics.summary());
    const r = await runStep(payload.job, payload.task, payload.step ?? { kind: "task" });
    const own = addTotals(totalsOf(storageMetrics.summary()), before, -1);
    // A finishing step's outcome already counts its task's other steps.
    return { ...r, outcome: { ...r.outcome, storage: r.outcome.storage ? addTotals(r.outcome.storage, own) : own } };
  });
}
