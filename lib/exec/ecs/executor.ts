/**
 * Runs a job's tasks on ECS (Fargate) workers, each running lib/worker/ecs-main.ts in a container:
 * 1. the tasks go to the output store as a manifest, and the cost estimate is reported;
 * 2. workers start with RunTask, at most 10 per call (they share overrides: each claims its own tasks);
 * 3. progress is read from the per-task status objects, listed every pollSeconds;
 * 4. every livenessSeconds, DescribeTasks finds stopped workers; the tasks they claimed but did not
 *    finish are freed and counted as an attempt, and new workers start while unclaimed tasks remain;
 * 5. workers past their time limit are stopped; cancel() (or the abort signal) stops every worker of
 *    the run, found by ListTasks(startedBy = run id).
 * The run's objects stay in the store's bookkeeping prefix until the store completes, so a failed
 * run's finished tasks count for `convert --resume`.
 */
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { ECSClient, Task } from "@aws-sdk/client-ecs";
import { ConvertError } from "../../errors.js";
import { remoteMode } from "../../io/open.js";
import type { JobSpec, TaskSpec } from "../../plan/types.js";
import { openStore } from "../../store/open.js";
import { currentInputAccess } from "../../store/s3-config.js";
import { isS3Url } from "../../store/s3-url.js";
import type { Store, StoreKey } from "../../store/types.js";
import { fromJsonBytes, jsonBytes } from "../../zarr/json.js";
import { describeTask } from "../dispatch.js";
import type { TaskOutcome } from "../task.js";
import type { ExecOptions, Executor } from "../types.js";
import { ecsClient } from "./client.js";
import { resolveEcsSettings, type EcsSettings } from "./config.js";
import { estimateEcsCost } from "./cost.js";
import { claimKey, claimsPrefix, ENV, manifestKey, shortArn, statusKey, statusPrefix, taskOfKey, type Claim, type Manifest, type StatusRecord } from "./protocol.js";

/** RunTask starts at most 10 tasks per call, and its overrides may hold 8,192 characters. */
const RUN_TASK_MAX_COUNT = 10;
const OVERRIDES_MAX_CHARS = 8192;
/** DescribeTasks takes at most 100 tasks per call. */
const DESCRIBE_MAX = 100;
/** How long past its own limit a worker may run before the client stops it. */
const OVERRUN_GRACE_S = 60;

interface WorkerState {
  arn: string;
  stopped: boolean;
  startedAt?: Date;
  stopRequested?: boolean;
}

/** Where a worker's output is on CloudWatch (the stack's awslogs driver: prefix "worker", container "worker"). */
const logHint = (s: EcsSettings, arn: string) => (s.logGroup ? `; its log: ${s.logGroup}, stream worker/${s.containerName}/${shortArn(arn)}` : "");

/** Every run id starts so: what stopPoolWorkers looks for in startedBy. */
const RUN_ID_PREFIX = "c2z-";
/** A run id that fits RunTask's startedBy (36 characters) and names the job. */
const newRunId = (job: JobSpec) => `${RUN_ID_PREFIX}${job.id.slice(0, 12)}-${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;

/**
 * Stops every running worker any convert-to-zarr run started on the pool's cluster, including runs of
 * a kernel or process that is gone (the notebook's clean-up cell). Returns how many it stopped.
 */
export async function stopPoolWorkers(over: Partial<EcsSettings> = {}): Promise<number> {
  const s = await resolveEcsSettings(over);
  const ecs = await ecsClient(s);
  try {
    const { DescribeTasksCommand, StopTaskCommand, paginateListTasks } = await import("@aws-sdk/client-ecs");
    const arns: string[] = [];
    for await (const page of paginateListTasks({ client: ecs }, { cluster: s.cluster, desiredStatus: "RUNNING" })) arns.push(...(page.taskArns ?? []));
    let stopped = 0;
    for (let i = 0; i < arns.length; i += DESCRIBE_MAX) {
      const { tasks = [] } = await ecs.send(new DescribeTasksCommand({ cluster: s.cluster, tasks: arns.slice(i, i + DESCRIBE_MAX) }));
      for (const t of tasks.filter((x) => x.startedBy?.startsWith(RUN_ID_PREFIX) && x.lastStatus !== "STOPPED")) {
        await ecs.send(new StopTaskCommand({ cluster: s.cluster, task: t.taskArn!, reason: "convert-to-zarr: clean-up" }));
        stopped++;
      }
    }
    return stopped;
  } finally {
    ecs.destroy();
  }
}

/** Containers see object storage only: refuses local inputs or output before anything is written. */
export function assertRunsOnEcs(job: Pick<JobSpec, "inputs" | "store">): void {
  const local = [...job.inputs, job.store].find((u) => !isS3Url(u));
  if (local) throw new ConvertError("Usage", "the ecs executor runs in containers: its inputs and output must be s3:// URLs", local);
}

export class EcsExecutor implements Executor {
  readonly name = "ecs" as const;
  private active: { ecs: ECSClient; settings: EcsSettings; runId: string; store: string; workers: Map<string, WorkerState>; cancelling?: Promise<void> } | undefined;

  constructor(private readonly over: Partial<EcsSettings> = {}) {}

  async run(job: JobSpec, tasks: readonly TaskSpec[], opts: ExecOptions): Promise<TaskOutcome[]> {
    assertRunsOnEcs(job);
    if (tasks.length === 0) return [];
    const settings = await resolveEcsSettings(this.over);
    const store = openStore(job.store);
    const runId = newRunId(job);
    const ecs = await ecsClient(settings);
    const workers = new Map<string, WorkerState>();
    this.active = { ecs, settings, runId, store: store.url, workers };
    const workerCount = Math.max(1, Math.min(settings.maxWorkers, opts.workers, tasks.length));
    if (opts.estimates) opts.onEvent?.({ type: "estimate", estimate: estimateEcsCost(opts.estimates, settings, workerCount) });

    const attempts = opts.attempts ?? 3;
    const manifest: Manifest = { version: 1, runId, job, tasks: [...tasks], remoteMode: remoteMode(), inputAccess: currentInputAccess(), attempts, createdAt: new Date().toISOString() };
    await store.set(manifestKey(runId), jsonBytes(manifest));

    const run = new RunMonitor(this, store, runId, tasks, attempts, opts);
    const onAbort = () => void this.cancel();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await this.startWorkers(workerCount, 0);
      return await run.untilDone(workerCount);
    } catch (e) {
      await this.cancel().catch(() => {});
      throw e;
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Starts n workers of the active run, up to 10 per RunTask call. */
  async startWorkers(n: number, round: number): Promise<string[]> {
    const a = this.requireActive();
    const { settings: s } = a;
    const environment = [
      { name: ENV.store, value: a.store },
      { name: ENV.runId, value: a.runId },
      { name: ENV.timeout, value: String(s.workerTimeoutS) },
      ...(s.region ? [{ name: "AWS_REGION", value: s.region }] : []),
    ];
    const started: string[] = [];
    const { RunTaskCommand } = await import("@aws-sdk/client-ecs");
    for (let batch = 0; started.length < n; batch++) {
      const count = Math.min(RUN_TASK_MAX_COUNT, n - started.length);
      const overrides = { containerOverrides: [{ name: s.containerName, environment }] };
      if (JSON.stringify(overrides).length > OVERRIDES_MAX_CHARS) {
        throw new ConvertError("Usage", `the worker's settings exceed RunTask's ${OVERRIDES_MAX_CHARS}-character override limit`, a.store);
      }
      const out = await a.ecs.send(new RunTaskCommand({
        cluster: s.cluster,
        taskDefinition: s.taskDefinition,
        count,
        capacityProviderStrategy: [{ capacityProvider: s.spot ? "FARGATE_SPOT" : "FARGATE", weight: 1 }],
        ...(s.subnets.length && {
          networkConfiguration: { awsvpcConfiguration: { subnets: s.subnets, securityGroups: s.securityGroups, assignPublicIp: "DISABLED" } },
        }),
        overrides,
        startedBy: a.runId,
        // Idempotent: a retried call (the SDK retries) does not start the workers twice.
        clientToken: `${a.runId}-${round}-${batch}`.slice(0, 64),
      }));
      for (const t of out.tasks ?? []) {
        if (t.taskArn && !a.workers.has(t.taskArn)) {
          a.workers.set(t.taskArn, { arn: t.taskArn, stopped: false });
          started.push(t.taskArn);
        }
      }
      if ((out.tasks ?? []).length < count) {
        const why = (out.failures ?? []).map((f) => `${f.reason ?? "failure"}${f.detail ? ` (${f.detail})` : ""}`).join("; ") || "no reason given";
        if (started.length === 0 && round === 0) throw new ConvertError("Pool", `RunTask started no worker on cluster ${s.cluster}: ${why}`);
        break; // capacity ran out: carry on with the workers that did start
      }
    }
    return started;
  }

  /** Describes the run's workers that have not stopped yet (DescribeTasks, ≤ 100 per call). */
  async describeWorkers(): Promise<Task[]> {
    const a = this.requireActive();
    const { DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
    const arns = [...a.workers.values()].filter((w) => !w.stopped).map((w) => w.arn);
    const out: Task[] = [];
    for (let i = 0; i < arns.length; i += DESCRIBE_MAX) {
      const r = await a.ecs.send(new DescribeTasksCommand({ cluster: a.settings.cluster, tasks: arns.slice(i, i + DESCRIBE_MAX) }));
      out.push(...(r.tasks ?? []));
      // ECS forgets stopped tasks after a while: one it no longer knows is gone.
      for (const f of r.failures ?? []) {
        if (f.reason === "MISSING" && f.arn) out.push({ taskArn: f.arn, lastStatus: "STOPPED", stoppedReason: "no longer known to ECS" });
      }
    }
    return out;
  }

  async stopWorker(arn: string, reason: string): Promise<void> {
    const a = this.requireActive();
    const { StopTaskCommand } = await import("@aws-sdk/client-ecs");
    const w = a.workers.get(arn);
    if (w) w.stopRequested = true;
    await a.ecs.send(new StopTaskCommand({ cluster: a.settings.cluster, task: arn, reason: reason.slice(0, 255) }));
  }

  cancel(): Promise<void> {
    const a = this.active;
    if (!a) return Promise.resolve();
    // Once per run: the abort signal and the failure path may both ask.
    a.cancelling ??= this.stopAll(a);
    return a.cancelling;
  }

  private async stopAll(a: NonNullable<EcsExecutor["active"]>): Promise<void> {
    const { paginateListTasks } = await import("@aws-sdk/client-ecs");
    const arns = new Set([...a.workers.values()].filter((w) => !w.stopped).map((w) => w.arn));
    // Workers this client may not know of (a restarted notebook): ECS remembers who started them.
    for await (const page of paginateListTasks({ client: a.ecs }, { cluster: a.settings.cluster, startedBy: a.runId, desiredStatus: "RUNNING" })) {
      for (const arn of page.taskArns ?? []) arns.add(arn);
    }
    await Promise.all([...arns].map((arn) => this.stopWorker(arn, "convert-to-zarr: run cancelled").catch(() => {})));
  }

  async close(): Promise<void> {
    this.active?.ecs.destroy();
    this.active = undefined;
  }

  requireActive() {
    if (!this.active) throw new Error("no ECS run in progress");
    return this.active;
  }
}

/** Follows one run: statuses for progress, DescribeTasks for liveness, resubmission, time limits. */
class RunMonitor {
  private readonly outcomes = new Map<number, TaskOutcome>();
  private readonly attemptsUsed = new Map<number, number>();
  private readonly claimOwner = new Map<number, string>();
  private readonly byId: Map<number, TaskSpec>;
  private round = 1;
  /** Workers started so far; replacements are bounded, or a worker that dies at start would loop forever. */
  private started = 0;
  private lastStop = "";

  constructor(
    private readonly exec: EcsExecutor,
    private readonly store: Store,
    private readonly runId: string,
    private readonly tasks: readonly TaskSpec[],
    private readonly attempts: number,
    private readonly opts: ExecOptions,
  ) {
    this.byId = new Map(tasks.map((t) => [t.id, t]));
  }

  async untilDone(workerCount: number): Promise<TaskOutcome[]> {
    const { settings } = this.exec.requireActive();
    this.started = this.exec.requireActive().workers.size;
    this.opts.onEvent?.({ type: "workers-started", workers: [...this.exec.requireActive().workers.keys()], running: this.running() });
    let lastLiveness = Date.now();
    while (this.outcomes.size < this.tasks.length) {
      if (this.opts.signal?.aborted) throw new ConvertError("Usage", "cancelled");
      await sleep(settings.pollSeconds * 1000);
      await this.collectStatuses();
      if (this.outcomes.size === this.tasks.length) break;
      if (Date.now() - lastLiveness >= settings.livenessSeconds * 1000) {
        lastLiveness = Date.now();
        await this.checkWorkers(workerCount);
      }
    }
    return [...this.outcomes.values()];
  }

  private running(): number {
    return [...this.exec.requireActive().workers.values()].filter((w) => !w.stopped).length;
  }

  private async collectStatuses(): Promise<void> {
    const fresh: number[] = [];
    for await (const key of this.store.list(statusPrefix(this.runId))) {
      const id = taskOfKey(key);
      if (!this.outcomes.has(id) && this.byId.has(id)) fresh.push(id);
    }
    const records = await Promise.all(fresh.map(async (id) => [id, await this.store.get(statusKey(this.runId, id))] as const));
    for (const [id, bytes] of records) {
      if (!bytes) continue;
      const r = fromJsonBytes<StatusRecord>(bytes);
      if (!r.ok) {
        const task = this.byId.get(id)!;
        throw new ConvertError((r.error.tag as ConvertError["_tag"]) ?? "Unreadable", `${describeTask(task)} failed on worker ${shortArn(r.worker)}: ${r.error.message}`, r.error.path);
      }
      this.outcomes.set(id, r.outcome);
      this.opts.onTaskDone?.(r.outcome);
    }
  }

  /** The run's claim objects now (one listing, shared by every stopped worker of a check). */
  private async claimKeys(): Promise<StoreKey[]> {
    const keys: StoreKey[] = [];
    for await (const key of this.store.list(claimsPrefix(this.runId))) keys.push(key);
    return keys;
  }

  /** Task ids claimed by `worker` that have no status yet. */
  private async unfinishedClaimsOf(worker: string, claims: readonly StoreKey[]): Promise<number[]> {
    const out: number[] = [];
    for (const key of claims) {
      const id = taskOfKey(key);
      if (this.outcomes.has(id)) continue;
      let owner = this.claimOwner.get(id);
      if (owner === undefined) {
        const bytes = await this.store.get(key);
        if (!bytes) continue;
        owner = fromJsonBytes<Claim>(bytes).worker;
        this.claimOwner.set(id, owner);
      }
      if (owner === worker && !(await this.store.has(statusKey(this.runId, id)))) out.push(id);
    }
    return out;
  }

  private async checkWorkers(workerCount: number): Promise<void> {
    const a = this.exec.requireActive();
    const described = await this.exec.describeWorkers();
    let claims: StoreKey[] | undefined;
    for (const t of described) {
      const w = t.taskArn ? a.workers.get(t.taskArn) : undefined;
      if (!w) continue;
      if (t.startedAt) w.startedAt = t.startedAt;
      if (t.lastStatus === "STOPPED") {
        w.stopped = true;
        await this.collectStatuses(); // a status written just before the worker stopped counts
        claims ??= await this.claimKeys();
        const orphaned = await this.unfinishedClaimsOf(w.arn, claims);
        const exitCode = t.containers?.[0]?.exitCode ?? null;
        const reason = [t.stoppedReason, t.containers?.[0]?.reason].filter(Boolean).join("; ") || "stopped";
        this.lastStop = `worker ${shortArn(w.arn)} stopped (${reason}${exitCode !== null ? `, exit code ${exitCode}` : ""})${logHint(a.settings, w.arn)}`;
        for (const id of orphaned) {
          const used = (this.attemptsUsed.get(id) ?? 1) + 1;
          if (used > this.attempts) {
            throw new ConvertError("Pool", `${describeTask(this.byId.get(id)!)} failed after ${this.attempts} attempts: ${this.lastStop}`);
          }
          this.attemptsUsed.set(id, used);
          this.claimOwner.delete(id);
          await this.store.delete(claimKey(this.runId, id));
        }
        if (orphaned.length || exitCode !== 0) {
          this.opts.onEvent?.({ type: "worker-stopped", worker: w.arn, exitCode, reason, resubmitted: orphaned });
        }
      } else if (w.startedAt && !w.stopRequested) {
        const seconds = (Date.now() - w.startedAt.getTime()) / 1000;
        if (seconds > a.settings.workerTimeoutS + OVERRUN_GRACE_S) {
          this.opts.onEvent?.({ type: "worker-overran", worker: w.arn, seconds });
          await this.exec.stopWorker(w.arn, `convert-to-zarr: worker ran past its ${a.settings.workerTimeoutS} s limit`);
        }
      }
    }
    // Unclaimed work and too few workers left: start replacements (a resubmission). Listed afresh:
    // live workers may have claimed more since.
    const claimed = new Set((await this.claimKeys()).map(taskOfKey));
    const unclaimed = this.tasks.filter((t) => !this.outcomes.has(t.id) && !claimed.has(t.id)).length;
    const want = Math.min(workerCount, unclaimed) - this.running();
    if (want > 0) {
      if (this.started + want > workerCount * this.attempts) {
        throw new ConvertError("Pool", `workers keep stopping with ${this.tasks.length - this.outcomes.size} tasks unfinished; last: ${this.lastStop || "no reason given"}`);
      }
      const started = await this.exec.startWorkers(want, this.round++);
      this.started += started.length;
      if (started.length) this.opts.onEvent?.({ type: "workers-started", workers: started, running: this.running() });
    } else if (this.running() === 0 && this.outcomes.size < this.tasks.length && unclaimed === 0) {
      // Every claim belongs to a worker that is gone but was not described as stopped: never wait forever.
      throw new ConvertError("Pool", `no worker is running and ${this.tasks.length - this.outcomes.size} tasks are unfinished`);
    }
  }
}
