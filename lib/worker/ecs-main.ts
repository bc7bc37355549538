/**
 * The container's entry point (infra/worker/Dockerfile), also what the local ECS endpoint starts as a
 * process. A worker reads its run's manifest from the output store, then claims tasks one at a time
 * (a conditional PUT: exactly one worker wins each task), runs each with the same handler as the
 * thread and process pools, and records how it ended in a status object. It exits when no unclaimed
 * task is left or after SIGTERM once its current task is done (0), after a task failed for good (1),
 * or when it overruns its time limit (124).
 * Every line it prints is one JSON object, so CloudWatch metric filters can count tasks and errors.
 */
import { hostname } from "node:os";
import { releaseJob } from "../exec/task.js";
import { claimKey, claimsPrefix, ENV, manifestKey, statusKey, statusPrefix, taskOfKey, type Claim, type Manifest, type StatusRecord } from "../exec/ecs/protocol.js";
import { setRemoteMode } from "../io/open.js";
import { openStore } from "../store/open.js";
import { setInputAccess } from "../store/s3-config.js";
import type { Store } from "../store/types.js";
import { fromJsonBytes, jsonBytes } from "../zarr/json.js";
import { oneLine } from "../errors.js";
import { runPayload } from "./main.js";
import type { WorkerResult } from "../exec/types.js";

const log = (event: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ event, at: new Date().toISOString(), ...fields })}\n`);

/** The task ARN from the ECS task metadata endpoint (v4), else host and pid. */
async function workerName(): Promise<string> {
  const uri = process.env.ECS_CONTAINER_METADATA_URI_V4;
  if (uri) {
    try {
      const r = await fetch(`${uri}/task`, { signal: AbortSignal.timeout(2000) });
      const arn = ((await r.json()) as { TaskARN?: string }).TaskARN;
      if (arn) return arn;
    } catch {
      // no metadata endpoint: fall through
    }
  }
  return `${hostname()}:${process.pid}`;
}

async function keysBelow(store: Store, prefix: `/${string}`): Promise<Set<number>> {
  const ids = new Set<number>();
  for await (const k of store.list(prefix)) ids.add(taskOfKey(k));
  return ids;
}

/** Starts at a place of its own in the task list, so workers started together do not all race for task 0. */
function rotated<T>(items: readonly T[], seed: string): T[] {
  let h = 0;
  for (const c of seed) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const k = items.length ? h % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

async function main(): Promise<number> {
  const storeUrl = process.env[ENV.store], runId = process.env[ENV.runId];
  if (!storeUrl || !runId) {
    log("worker-error", { message: `${ENV.store} and ${ENV.runId} must be set` });
    return 2;
  }
  const timeoutS = Number(process.env[ENV.timeout] || 0);
  const worker = await workerName();
  const started = Date.now();
  if (timeoutS > 0) {
    // ECS has no task timeout: the worker bounds its own cost.
    setTimeout(() => {
      log("worker-timeout", { worker, seconds: timeoutS });
      process.exit(124);
    }, timeoutS * 1000).unref();
  }
  const store = openStore(storeUrl);
  const raw = await store.get(manifestKey(runId));
  if (!raw) {
    log("worker-error", { worker, message: `no manifest for run ${runId} in ${storeUrl}` });
    return 2;
  }
  const manifest = fromJsonBytes<Manifest>(raw);
  setRemoteMode(manifest.remoteMode);
  setInputAccess(manifest.inputAccess ?? {});
  log("worker-start", { worker, runId, tasks: manifest.tasks.length });

  // ECS sends SIGTERM before SIGKILL (StopTask, a Spot reclaim with its 2-minute notice): finish the
  // task in hand, take no other, and exit; its unclaimed tasks go to other workers.
  let stopping = false;
  process.once("SIGTERM", () => {
    stopping = true;
    log("worker-stopping", { worker, signal: "SIGTERM" });
  });
  let ran = 0;
  for (;;) {
    const [claimed, finished] = await Promise.all([keysBelow(store, claimsPrefix(runId)), keysBelow(store, statusPrefix(runId))]);
    let claimedThisPass = 0;
    for (const task of rotated(manifest.tasks, worker)) {
      if (stopping) {
        log("worker-end", { worker, tasks: ran, reason: "stopped" });
        return 0;
      }
      if (claimed.has(task.id) || finished.has(task.id)) continue;
      if (timeoutS > 0 && (Date.now() - started) / 1000 > timeoutS * 0.9) {
        log("worker-end", { worker, tasks: ran, reason: "time limit near" });
        return 0;
      }
      const claim: Claim = { worker, at: new Date().toISOString() };
      if (!(await store.setIfAbsent(claimKey(runId, task.id), jsonBytes(claim)))) continue;
      claimedThisPass++;
      const t0 = performance.now();
      let r: WorkerResult;
      for (let attempt = 1; ; attempt++) {
        r = await runPayload({ job: manifest.job, task });
        if (r.ok || !r.error.retryable || attempt >= manifest.attempts) break;
        log("task-retry", { worker, task: task.id, attempt, message: r.error.message });
      }
      const seconds = (performance.now() - t0) / 1000;
      const status: StatusRecord = r.ok ? { ok: true, worker, seconds, outcome: r.outcome } : { ok: false, worker, seconds, error: r.error };
      await store.setIfAbsent(statusKey(runId, task.id), jsonBytes(status));
      ran++;
      if (!r.ok) {
        log("task-failed", { worker, task: task.id, message: r.error.message, ...(r.error.path && { path: r.error.path }) });
        return 1;
      }
      log("task-done", { worker, task: task.id, chunks: r.outcome.chunksWritten + r.outcome.chunksEmpty, bytesWritten: r.outcome.bytesWritten, seconds });
    }
    if (claimedThisPass === 0) break;
  }
  log("worker-end", { worker, tasks: ran, seconds: (Date.now() - started) / 1000 });
  return 0;
}

main()
  .then(async (code) => {
    await releaseJob();
    process.exit(code);
  })
  .catch((e: unknown) => {
    log("worker-error", { message: oneLine(e) });
    process.exit(1);
  });
