import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ConvertError } from "../errors.js";
import type { JobSpec, TaskSpec } from "../plan/types.js";
import { dispatch } from "./dispatch.js";
import { workerIo } from "../worker/io.js";
import type { WorkerPayload } from "../worker/main.js";
import type { ExecOptions, Executor, WorkerResult } from "./types.js";

type Tinypool = import("tinypool").default;

/** The worker entry point, compiled: dist/lib/worker/main.js next to this file's compiled form. */
const WORKER = new URL("../worker/main.js", import.meta.url);

/**
 * Worker threads or child processes from tinypool, each with its own h5wasm instance and its own
 * open files, all running lib/worker/main.js → runTask.
 */
export class PoolExecutor implements Executor {
  private pool: Tinypool | undefined;
  constructor(readonly name: "threads" | "process") {}

  private async open(workers: number): Promise<Tinypool> {
    if (!existsSync(fileURLToPath(WORKER))) {
      throw new ConvertError("Usage", `the ${this.name} executor needs the compiled worker (${fileURLToPath(WORKER)}); run \`npm run build\``);
    }
    const { default: Pool } = await import("tinypool");
    this.pool ??= new Pool({
      filename: WORKER.href,
      runtime: this.name === "threads" ? "worker_threads" : "child_process",
      minThreads: workers,
      maxThreads: workers,
      isolateWorkers: false,
    });
    return this.pool;
  }

  async warm(workers: number) {
    const pool = await this.open(workers);
    await Promise.all(Array.from({ length: workers }, () => pool.run({ warm: true } satisfies WorkerPayload)));
  }

  async run(job: JobSpec, tasks: readonly TaskSpec[], opts: ExecOptions) {
    const pool = await this.open(opts.workers);
    const io = workerIo();
    // Threads share memory: a task's chunks may be encoded by any of them (dispatch.ts).
    const split = this.name === "threads";
    return dispatch(tasks, (task, step) => pool.run({ job, task, io, step } satisfies WorkerPayload) as Promise<WorkerResult>, { ...opts, split });
  }

  async cancel() {
    await this.close();
  }

  async close() {
    const p = this.pool;
    this.pool = undefined;
    await p?.destroy();
  }
}
