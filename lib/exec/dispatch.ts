/**
 * Shared by every executor: keeps `workers` tasks in flight, retries a failed task (bounded) when
 * its failure may pass (a crashed worker, an I/O error), and otherwise fails the run with the task,
 * the file and the cause. With worker threads it also splits tasks: a task's block is read by one
 * thread, then its chunks are encoded by whichever threads are free. Written by hand: it is the
 * retry, error and splitting policy, and the pools underneath (tinypool) already do the queueing.
 */
import { ConvertError, isConvertError, oneLine, type ErrorTag } from "../errors.js";
import type { TaskSpec } from "../plan/types.js";
import { addTotals } from "../store/metrics.js";
import type { SharedBlock, StepResult, TaskOutcome } from "./task.js";
import type { ExecOptions, WireError, WorkerResult } from "./types.js";

/** Bad data stays bad: such failures are not retried. */
const DETERMINISTIC: ReadonlySet<string> = new Set<ErrorTag>(["Corrupt", "Unsupported", "Usage", "Mismatch", "NotNetCDF", "NotFound"]);

export function toWire(e: unknown): WireError {
  if (isConvertError(e)) {
    return { tag: e._tag, message: e.message, ...(e.path && { path: e.path }), retryable: !DETERMINISTIC.has(e._tag) };
  }
  return { message: oneLine(e), retryable: true };
}

export async function runGuarded(run: () => Promise<StepResult>): Promise<WorkerResult> {
  try {
    return { ok: true, ...(await run()) };
  } catch (e) {
    return { ok: false, error: toWire(e) };
  }
}

export function describeTask(t: TaskSpec): string {
  const region = t.start.map((s, i) => `${s}:${s + t.count[i]!}`).join(", ");
  return `task ${t.id} (${t.array}[${region}])`;
}

/**
 * What a worker runs for a task: all of it, or — worker threads, which share memory — one of its
 * steps: read the block into shared memory, encode some of its chunks, record it as done.
 */
export type Step =
  | { kind: "task" }
  | { kind: "read"; memory?: SharedArrayBuffer }
  | { kind: "encode"; shared: SharedBlock; from: number; to: number }
  | { kind: "finish"; outcome: TaskOutcome };

interface Item {
  t: TaskSpec;
  attempt: number;
  step: Step;
}

/** A task whose block was read into shared memory, while its chunks are encoded. */
interface Splitting {
  outcome: TaskOutcome;
  pending: number;
  memory: SharedArrayBuffer;
}

/**
 * Blocks of finished split tasks, kept to be lent to the next reads (at most `keep`, the largest).
 * Shared memory passed between threads is never counted as garbage by V8, so a new block per task
 * would pile up; a reused one also spares new memory's page faults.
 */
class SpareBlocks {
  private blocks: SharedArrayBuffer[] = [];
  constructor(private readonly keep: number) {}
  giveBack(m: SharedArrayBuffer | undefined) {
    if (!m) return;
    this.blocks.push(m);
    this.blocks.sort((a, b) => b.byteLength - a.byteLength).splice(this.keep);
  }
  /** A read step with the largest spare block, if any. */
  lend(step: Step): Step {
    if (step.kind !== "read") return step;
    const memory = this.blocks.shift();
    return memory ? { kind: "read", memory } : { kind: "read" };
  }
}

/** The encode steps of a split task: `encoders` chunks each (a worker overlaps compressing and writing). */
function encodeSteps(t: TaskSpec, shared: SharedBlock): Item[] {
  const per = Math.max(1, t.encoders ?? 1), steps: Item[] = [];
  for (let from = 0; from < shared.segments; from += per) {
    steps.push({ t, attempt: 1, step: { kind: "encode", shared, from, to: Math.min(shared.segments, from + per) } });
  }
  return steps;
}

/** Adds an encode step's counts to its task's. */
function merge(into: TaskOutcome, part: TaskOutcome) {
  into.chunksWritten += part.chunksWritten;
  into.chunksEmpty += part.chunksEmpty;
  into.bytesWritten += part.bytesWritten;
  if (part.storage) into.storage = into.storage ? addTotals(into.storage, part.storage) : part.storage;
}

export async function dispatch(
  tasks: readonly TaskSpec[],
  runOne: (t: TaskSpec, step: Step) => Promise<WorkerResult>,
  opts: ExecOptions & { split?: boolean },
): Promise<TaskOutcome[]> {
  const attempts = opts.attempts ?? 3;
  const lanes = Math.max(1, opts.split ? opts.workers : Math.min(opts.workers, tasks.length));
  // In parallel, biggest blocks first (longest processing time first): a big task started last
  // would run alone. One lane keeps the plan's order.
  const size = (t: TaskSpec) => t.count.reduce((a, b) => a * b, 1);
  const ordered = lanes > 1 ? [...tasks].sort((a, b) => size(b) - size(a) || a.id - b.id) : tasks;
  const queue: Item[] = ordered.map((t) => ({ t, attempt: 1, step: { kind: opts.split ? "read" : "task" } }));
  const splitting = new Map<number, Splitting>();
  const spare = new SpareBlocks(lanes);
  const results: TaskOutcome[] = [];
  let failure: ConvertError | undefined;
  let running = 0;
  // Lanes with nothing to take wait here while a running step may still add steps (a split task's).
  let waiting: (() => void)[] = [];
  const wake = () => {
    const w = waiting;
    waiting = [];
    w.forEach((f) => f());
  };
  const done = (o: TaskOutcome) => {
    results.push(o);
    opts.onTaskDone?.(o);
  };
  const succeeded = (item: Item, step: Step, r: WorkerResult & { ok: true }) => {
    const { t } = item;
    spare.giveBack(r.unused);
    if (step.kind === "read" && r.shared) {
      // Its chunks go first, to whichever lanes are free: the block is done with soonest.
      const steps = encodeSteps(t, r.shared);
      splitting.set(t.id, { outcome: r.outcome, pending: steps.length, memory: r.shared.buffer });
      queue.unshift(...steps);
    } else if (step.kind === "encode") {
      const s = splitting.get(t.id)!;
      merge(s.outcome, r.outcome);
      if (--s.pending === 0) {
        splitting.delete(t.id);
        spare.giveBack(s.memory);
        queue.unshift({ t, attempt: 1, step: { kind: "finish", outcome: s.outcome } });
      }
    } else done(r.outcome);
  };
  const lane = async () => {
    for (;;) {
      if (failure) return;
      if (opts.signal?.aborted) {
        failure = new ConvertError("Usage", "cancelled");
        return;
      }
      const item = queue.shift();
      if (!item) {
        if (running === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      running++;
      const step = spare.lend(item.step);
      let r: WorkerResult;
      try {
        r = await runOne(item.t, step);
      } catch (e) {
        r = { ok: false, error: { message: `worker failed: ${oneLine(e)}`, retryable: true } };
      }
      running--;
      if (r.ok) succeeded(item, step, r);
      else {
        if (step.kind === "read") spare.giveBack(step.memory); // zeroed again before any reuse
        if (r.error.retryable && item.attempt < attempts) queue.push({ ...item, attempt: item.attempt + 1 });
        else {
          const times = item.attempt > 1 ? ` after ${item.attempt} attempts` : "";
          failure = new ConvertError((r.error.tag as ErrorTag) ?? "Unreadable", `${describeTask(item.t)} failed${times}: ${r.error.message}`, r.error.path);
        }
      }
      wake();
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failure) throw failure;
  return results;
}
