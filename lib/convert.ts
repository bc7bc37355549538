/**
 * NetCDF file(s) → one Zarr store: plan the tasks, write the skeleton, run the tasks on an
 * executor, then the root and consolidated metadata last. A lock keeps a second writer out, per-task
 * completion records make a killed run resumable, and appends extend an existing store.
 */
import { statSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { openCollection, type Collection } from "./collection.js";
import { ConvertError } from "./errors.js";
import { createExecutor } from "./exec/registry.js";
import type { ExecEvent, Executor, ExecutorName } from "./exec/types.js";
import type { EcsSettings } from "./exec/ecs/config.js";
import { assertRunsOnEcs } from "./exec/ecs/executor.js";
import { buildEncodings, copyPlan, jobId, JOB_KEY, lazyLengths, primed, namesShuffle, primeJob, STATE_PREFIX } from "./exec/job.js";
import type { TaskOutcome } from "./exec/task.js";
import { acquireLock, readLock, releaseLock } from "./store/lock.js";
import { elementSize, isDimensionCoordinate, walkGroups, walkVariables, type Dataset, type Variable } from "./model.js";
import { chooseChunks, type ChunkSpec } from "./plan/chunks.js";
import { planJob } from "./plan/planner.js";
import type { ArrayInput, JobSpec, Plan, TaskSpec } from "./plan/types.js";
import { FsStore } from "./store/fs.js";
import { normalizeLocation, openStore } from "./store/open.js";
import { addTotals, storageMetrics, totalsOf, type StorageTotals } from "./store/metrics.js";
import { expandInputs } from "./io/inputs.js";
import { getJson } from "./store/read.js";
import type { Store } from "./store/types.js";
import { attrsToJson } from "./zarr/attrs.js";
import type { CodecName } from "./zarr/codecs.js";
import { IN_PROGRESS_KEY, MetadataWriter } from "./zarr/layout.js";
import { elementOf, type ArrayEncoding, type ZarrFormat } from "./zarr/encoding.js";
import { jsonBytes } from "./zarr/json.js";
import { prepareAppend } from "./append.js";

export interface ConvertOptions {
  /** Output directory of the Zarr store. */
  out: string;
  /** 3 (default) or 2. */
  zarrFormat?: ZarrFormat;
  codec?: CodecName;
  level?: number;
  /**
   * Byte-shuffle numbers wider than one byte before compressing (numcodecs' shuffle filter). Default:
   * on for Zarr v2, where numcodecs' shuffle is standard; off for v3, where it is no spec codec.
   */
  shuffle?: boolean;
  /** Target chunk sizes by dimension name; others chosen automatically. */
  chunks?: ChunkSpec;
  /** Variables to convert (names or paths); their coordinate variables come along. */
  variables?: string[];
  concatDim?: string;
  /**
   * Store every time variable in these units ("days since 1998-01-16"); by default the first file's.
   * Files whose time units differ are re-expressed in them exactly either way.
   */
  timeUnits?: string;
  /**
   * Store packed variables (scale_factor, add_offset) as the floats xarray's CF decoding gives —
   * float32 where CF makes them float32, else float64; missing values NaN — so that files packed
   * differently can share one array. Off: such files are refused.
   */
  unpack?: boolean;
  /** Leave out variables whose type Zarr cannot hold, instead of refusing the input. */
  skipUnsupported?: boolean;
  /** Replace an existing Zarr store at `out`. */
  overwrite?: boolean;
  /** Continue an interrupted run on `out`, skipping the tasks it finished. */
  resume?: boolean;
  /** Extend the existing store at `out` with these files along its concat dimension. */
  append?: boolean;
  /** Memory budget per worker in bytes (default 1 GiB). */
  maxMem?: number;
  /** Tasks running at once (default: the number of CPUs, at most 4; 1 inline). */
  workers?: number;
  /** Where tasks run; "auto" (default): inline for small jobs, threads otherwise. */
  executor?: ExecutorName | "auto";
  /** The ECS worker pool (executor "ecs"), over what the deployed stack publishes. */
  ecs?: Partial<EcsSettings>;
  /** The executor's own news: the ECS executor's cost estimate, workers started, stopped, resubmitted. */
  onEvent?: (e: ExecEvent) => void;
  /** Attempts per task (default 3). */
  attempts?: number;
  onProgress?: (p: ConvertProgress) => void;
  signal?: AbortSignal;
}

export interface ConvertProgress {
  tasksDone: number;
  tasksTotal: number;
  chunksDone: number;
  chunksTotal: number;
  /** Uncompressed bytes decoded so far / in all. */
  bytesRead: number;
  bytesReadTotal: number;
  bytesWritten: number;
  elapsedSeconds: number;
  /** Uncompressed bytes per second. */
  throughput: number;
  /** Seconds left at the current throughput, or null before the first task ends. */
  etaSeconds: number | null;
}

export interface ArraySummary {
  path: string;
  dtype: string;
  shape: number[];
  chunks: number[];
  chunksWritten: number;
  /** Chunks equal to the fill value everywhere: not stored, they read back as fill. */
  chunksEmpty: number;
  bytesWritten: number;
}

export interface ConvertSummary {
  store: string;
  zarrFormat: ZarrFormat;
  codec: CodecName;
  /** Numbers were byte-shuffled before the codec (not said of "copy", whose arrays keep the source's filters). */
  shuffle: boolean;
  inputs: string[];
  concatDim: string | null;
  mode: "create" | "resume" | "append" | "complete";
  arrays: ArraySummary[];
  skipped: { path: string; reason: string }[];
  tasks: number;
  /** Tasks a resumed run found already done. */
  tasksSkipped: number;
  executor: ExecutorName;
  workers: number;
  readAmplification: number;
  bytesRead: number;
  bytesWritten: number;
  /** Object-storage requests of this run (all zero for local disk), retries included. */
  storage: StorageTotals;
  seconds: number;
}

export const DEFAULT_MAX_MEM = 2 ** 30;

/** Everything decided before a byte is written: the job, its plan, the encodings. */
export interface PreparedJob {
  collection: Collection;
  job: JobSpec;
  plan: Plan;
  encodings: Map<string, ArrayEncoding>;
  skipped: { path: string; reason: string }[];
  /** Root group attributes for the final metadata. */
  rootAttrs: Record<string, unknown>;
  /** Append: the store's documents to rewrite with new shapes; undefined for a new store. */
  appendDocs?: Map<string, Record<string, unknown>>;
  /** codec "copy": arrays re-encoded instead, and why. */
  notCopied?: { path: string; reason: string }[];
}

/** The variables to write: the selection plus the coordinate variables of their dimensions. */
function selectVariables(all: Variable[], names: string[] | undefined): Variable[] {
  if (!names || names.length === 0) return all;
  const wanted = new Set<Variable>();
  for (const n of names) {
    const hit = all.filter((v) => v.path === n || v.path === `/${n}` || v.name === n);
    if (hit.length === 0) throw new ConvertError("Usage", `--variables: no variable named ${n}`);
    hit.forEach((v) => wanted.add(v));
  }
  for (const v of [...wanted]) {
    for (const d of v.dims) all.filter((c) => c.name === d && c.dims.length >= 1 && c.dims[0] === d).forEach((c) => wanted.add(c));
  }
  return all.filter((v) => wanted.has(v));
}

/** --chunks must name dimensions the inputs have: a misspelt one would otherwise be ignored silently. */
function checkChunkDims(chunks: ConvertOptions["chunks"], ds: Dataset): void {
  const dims = new Set([...walkGroups(ds.root)].flatMap((g) => g.dims.map((d) => d.name)));
  const unknown = Object.keys(chunks ?? {}).filter((d) => !dims.has(d));
  if (unknown.length) throw new ConvertError("Usage", `--chunks: no dimension named ${unknown[0]} (the inputs have ${[...dims].join(", ") || "none"})`);
}

/** What the planner needs of each array: stored shapes and the sources' chunk grid. */
export function planInputs(collection: Collection, encodings: Map<string, ArrayEncoding>, job: JobSpec): ArrayInput[] {
  return [...encodings.values()].map((e) => {
    const source = collection.sourceAxes(e.variable.path).slice(0, e.shape.length);
    const axis = job.append ? e.dims.indexOf(job.append.concatDim) : -1;
    if (axis >= 0 && source[axis]) source[axis] = [job.append!.oldLength, ...source[axis]!];
    // Strings: an estimate of a JS string per element (characters are 2 bytes, plus a header).
    const elementBytes = e.dtype === "string" ? 32 : elementSize(elementOf(e));
    return {
      path: e.variable.path, shape: e.shape, chunks: e.chunks, itemSize: elementBytes, source,
      ...(axis >= 0 && { fromIndex: { axis, index: job.append!.oldLength } }),
    };
  });
}

/** Opens the inputs, chooses chunks, builds the job and plans it; writes nothing. */
export async function prepareJob(inputs: string[], opts: ConvertOptions): Promise<PreparedJob> {
  if (opts.append) return prepareAppend(inputs, opts);
  const format = opts.zarrFormat ?? 3;
  if (format !== 2 && format !== 3) throw new ConvertError("Usage", `--zarr-format must be 2 or 3, got ${String(format)}`);
  const collection = await openCollection((await expandInputs(inputs)).map(normalizeLocation), {
    ...(opts.concatDim && { concatDim: opts.concatDim }), ...(opts.timeUnits && { timeUnits: opts.timeUnits }),
    ...(opts.unpack && { unpack: true }),
  });
  try {
    const ds = collection.dataset;
    const chosen = selectVariables([...walkVariables(ds.root)], opts.variables);
    const skipped = chosen.filter((v) => v.unsupported).map((v) => ({ path: v.path, reason: v.unsupported! }));
    if (skipped.length && !opts.skipUnsupported) {
      const s = skipped[0]!;
      throw new ConvertError("Unsupported", `variable ${s.path} has an unsupported ${s.reason} (use --skip-unsupported to leave it out)`, inputs[0]);
    }
    checkChunkDims(opts.chunks, ds);
    const unlimited = new Set([...walkGroups(ds.root)].flatMap((g) => g.dims.filter((d) => d.unlimited).map((d) => d.name)));
    const chunks: Record<string, number[]> = {};
    for (const v of chosen) {
      if (v.unsupported) continue;
      // Copying compressed chunks keeps the source's chunking unless told otherwise.
      const keep = opts.codec === "copy" && v.sourceChunks ? Object.fromEntries(v.dims.map((d, i) => [d, v.sourceChunks![i]!])) : {};
      // Fixed dimensions' coordinates (lat(lat), lon(lon)) keep the automatic rule — one chunk up to
      // 8 MiB — whatever --chunks says for their dimension, as xarray writes them: every query reads
      // them whole to find its indices, and on object storage each chunk is a request. Not along the
      // dimension that grows: its chunks would then depend on the length, and an append could not
      // equal converting everything at once.
      const grows = (d: string) => unlimited.has(d) || d === collection.concatDim;
      const fixedCoordinate = isDimensionCoordinate(v) && !grows(v.dims[0]!);
      chunks[v.path] = chooseChunks(v, fixedCoordinate ? keep : { ...keep, ...opts.chunks }, unlimited);
    }
    const copy = opts.codec === "copy" ? copyPlan(collection, chunks) : undefined;
    const lengths = lazyLengths(collection);
    const spec: Omit<JobSpec, "id"> = {
      inputs: collection.files.map((f) => f.path), ...(lengths && { lengths }), concatDim: collection.concatDim ?? null, store: normalizeLocation(opts.out),
      zarrFormat: format, codec: opts.codec ?? "zstd", level: opts.level ?? null,
      shuffle: opts.shuffle ?? format === 2, chunks, skipUnsupported: !!opts.skipUnsupported,
      ...(copy && { copy: copy.copy }), ...(Object.keys(collection.recode).length && { recode: collection.recode }),
    };
    const job: JobSpec = { id: jobId({ ...spec, store: "" }), ...spec };
    const encodings = await buildEncodings(collection, job);
    const plan = planJob(planInputs(collection, encodings, job), { maxMem: opts.maxMem ?? DEFAULT_MAX_MEM, workers: workersFor(opts) });
    // (workers only enter the estimates: the tasks themselves do not depend on it, so a resumed run
    // may use another count)
    return { collection, job, plan, encodings, skipped, rootAttrs: attrsToJson(ds.root.attrs), ...(copy && { notCopied: copy.notCopied }) };
  } catch (e) {
    collection.close();
    throw e;
  }
}

/** Below this much decoding, starting worker threads costs more than it saves. */
const AUTO_INLINE_BYTES = 32 * 2 ** 20;

export function chooseExecutor(opts: ConvertOptions, plan: Plan, copied: readonly string[] = []): ExecutorName {
  const e = opts.executor ?? "auto";
  if (e !== "auto") return e;
  // Copied chunks are not decoded: only the rest is CPU work worth spreading over threads.
  const decoded = plan.arrays.filter((a) => !copied.includes(a.path)).reduce((s, a) => s + a.bytes * a.readAmplification, 0);
  return decoded < AUTO_INLINE_BYTES || plan.tasks.length < 2 || opts.workers === 1 ? "inline" : "threads";
}

/**
 * Starts the worker pool while the main thread opens and plans the inputs, so that starting threads,
 * loading modules and compiling h5wasm (~0.3 s) happen on the other cores: when the run will surely
 * use the pool — --executor threads or process, or auto with local inputs of more than
 * AUTO_INLINE_BYTES (decoding never yields fewer bytes than the files hold).
 */
function startPoolEarly(inputs: readonly string[], opts: ConvertOptions): { name: ExecutorName; executor: Promise<Executor> } | undefined {
  const asked = opts.executor ?? "auto";
  const sure = asked === "threads" || asked === "process";
  const likely = asked === "auto" && opts.workers !== 1 && opts.codec !== "copy" && localBytes(inputs) >= AUTO_INLINE_BYTES;
  if (!sure && !likely) return undefined;
  const name = sure ? asked : "threads";
  const workers = workersFor({ ...opts, executor: name });
  const executor = createExecutor(name).then(async (x) => {
    try {
      await x.warm?.(workers);
      return x;
    } catch (e) {
      await x.close();
      throw e;
    }
  });
  executor.catch(() => {}); // a failure shows again when the executor is made the usual way
  return { name, executor };
}

/** Bytes of the inputs that are local files (the rest count nothing). */
function localBytes(inputs: readonly string[]): number {
  let total = 0;
  for (const input of inputs) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) continue;
    try {
      total += statSync(input).size;
    } catch {
      // a missing input is reported by the open that follows
    }
  }
  return total;
}

/** ECS workers started at most when --workers is not given (the pool's own cap also applies). */
const DEFAULT_ECS_WORKERS = 16;

function workersFor(opts: ConvertOptions): number {
  if (opts.executor === "inline") return 1;
  if (opts.executor === "ecs") return Math.max(1, opts.workers ?? DEFAULT_ECS_WORKERS);
  return Math.max(1, opts.workers ?? Math.min(4, availableParallelism()));
}

async function isEmpty(store: Store): Promise<boolean> {
  for await (const _ of store.list("/")) return false;
  return true;
}

interface JobRecord {
  job: JobSpec;
  tasks: TaskSpec[];
}

const hasMarker = (store: Store) => store.has(IN_PROGRESS_KEY);

/** Decides what to do with what is at `out`; returns the done task ids when resuming. */
async function beginWrite(store: Store, prep: PreparedJob, opts: ConvertOptions): Promise<{ done: Map<number, TaskOutcome>; tasks: TaskSpec[]; complete: boolean }> {
  const out = opts.out;
  const fresh = { done: new Map<number, TaskOutcome>(), tasks: prep.plan.tasks, complete: false };
  if (store instanceof FsStore) {
    const info = await stat(out).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOTDIR") throw new ConvertError("Usage", "output is inside a file, not a directory", out);
      return undefined;
    });
    if (info && !info.isDirectory()) throw new ConvertError("OutputExists", "output exists and is not a directory", out);
  }
  if (!(await isEmpty(store)) && !opts.append) {
    const lock = await readLock(store);
    if (lock?.alive) throw new ConvertError("OutputExists", `store is being written by ${lock.owner} since ${lock.started}`, out);
    const incomplete = await hasMarker(store);
    if (opts.resume) {
      if (!incomplete && ((await store.has("/zarr.json")) || (await store.has("/.zgroup")))) return { ...fresh, complete: true };
      const resumed = await resumeFromRecord(store, prep, out, "the interrupted run used other inputs or options; resume with the same ones, or use --overwrite to start over");
      if (resumed) return resumed;
      await store.deletePrefix("/"); // nothing recorded yet: start over
    } else if (incomplete && !opts.overwrite) {
      throw new ConvertError("OutputExists", "output is an incomplete store from an interrupted run; use --resume to continue or --overwrite to start over", out);
    } else if (!opts.overwrite) {
      throw new ConvertError("OutputExists", "output already exists (use --overwrite to replace it)", out);
    } else {
      const isZarr = (await store.has("/.zgroup")) || (await store.has("/zarr.json")) || (await store.has("/.zarray")) || incomplete || (await store.has(JOB_KEY));
      if (!isZarr) throw new ConvertError("OutputExists", `output is a non-empty ${store instanceof FsStore ? "directory" : "prefix"} that is not a Zarr store; refusing to delete it`, out);
      await store.deletePrefix("/");
    }
  }
  if (opts.append && opts.resume) {
    const resumed = await resumeFromRecord(store, prep, out, "the interrupted append used other inputs or options; resume with the same ones");
    if (resumed) return resumed;
  }
  await acquireLock(store, out, false);
  await store.set(IN_PROGRESS_KEY, jsonBytes({ job: prep.job.id, started: new Date().toISOString() }));
  await store.set(JOB_KEY, jsonBytes({ job: prep.job, tasks: prep.plan.tasks } satisfies JobRecord));
  return fresh;
}

/**
 * Continues an interrupted run from its job record: same job or refused, stray temporaries removed,
 * the stale lock taken over, finished tasks known. Undefined when no record was written yet.
 */
async function resumeFromRecord(store: Store, prep: PreparedJob, out: string, otherJob: string) {
  const record = await getJson<JobRecord>(store, JOB_KEY);
  if (!record) return undefined;
  if (record.job.id !== prep.job.id) throw new ConvertError("Usage", otherJob, out);
  if (store instanceof FsStore) await store.removePartials();
  await acquireLock(store, out, true);
  return { done: await readDone(store), tasks: record.tasks, complete: false };
}

async function readDone(store: Store): Promise<Map<number, TaskOutcome>> {
  const done = new Map<number, TaskOutcome>();
  for await (const key of store.list(`${STATE_PREFIX}/done`)) {
    const o = await getJson<TaskOutcome>(store, key);
    if (o) done.set(o.id, o);
  }
  return done;
}

async function writeSkeleton(meta: MetadataWriter, prep: PreparedJob) {
  if (prep.appendDocs) return; // an append rewrites the store's own documents at the end
  for (const g of walkGroups(prep.collection.dataset.root)) await meta.group(g);
  for (const e of prep.encodings.values()) await meta.array(e);
}

async function finish(store: Store, meta: MetadataWriter, prep: PreparedJob) {
  if (prep.appendDocs) for (const [k, doc] of prep.appendDocs) await meta.raw(k, doc);
  else await writeSkeleton(meta, prep); // identical documents; also fills the consolidated set after a resume
  await meta.finish(prep.rootAttrs);
  await store.deletePrefix(STATE_PREFIX); // job record, completion records, lock
  await store.delete(IN_PROGRESS_KEY);
}

export async function convert(inputs: string[], opts: ConvertOptions): Promise<ConvertSummary> {
  const t0 = performance.now();
  const storageBefore = totalsOf(storageMetrics.summary());
  const early = startPoolEarly(inputs, opts);
  let prep: PreparedJob;
  try {
    prep = await prepareJob(inputs, opts);
  } catch (e) {
    await early?.executor.then((x) => x.close(), () => {});
    throw e;
  }
  const store = openStore(opts.out);
  const executorName = chooseExecutor(opts, prep.plan, prep.job.copy);
  // A pool started early but not wanted after all (auto chose otherwise) is closed at once.
  const warmed = early?.name === executorName ? early.executor.catch(() => undefined) : undefined;
  if (early && !warmed) void early.executor.then((x) => x.close(), () => {});
  const workers = workersFor({ ...opts, executor: executorName });
  let createdOut = false;
  let began = false;
  try {
    if (executorName === "ecs") assertRunsOnEcs(prep.job); // before anything is written
    createdOut = store instanceof FsStore && !(await stat(opts.out).catch(() => undefined));
    const state = await beginWrite(store, prep, opts);
    const summary = (mode: ConvertSummary["mode"], outcomes: TaskOutcome[], tasksSkipped: number): ConvertSummary => {
      const byArray = new Map<string, ArraySummary>([...prep.encodings.values()].map((e) => [e.variable.path, {
        path: e.variable.path, dtype: e.dtype, shape: e.shape, chunks: e.chunks, chunksWritten: 0, chunksEmpty: 0, bytesWritten: 0,
      }]));
      const taskArray = new Map(state.tasks.map((t) => [t.id, t.array]));
      for (const o of outcomes) {
        const a = byArray.get(taskArray.get(o.id) ?? "");
        if (!a) continue;
        a.chunksWritten += o.chunksWritten;
        a.chunksEmpty += o.chunksEmpty;
        a.bytesWritten += o.bytesWritten;
      }
      return {
        store: opts.out, zarrFormat: prep.job.zarrFormat, codec: prep.job.codec,
        shuffle: namesShuffle(prep.job), inputs: prep.job.inputs, concatDim: prep.job.concatDim,
        mode, arrays: [...byArray.values()], skipped: prep.skipped, tasks: state.tasks.length, tasksSkipped,
        executor: executorName, workers, readAmplification: prep.plan.estimates.readAmplification,
        bytesRead: outcomes.reduce((s, o) => s + o.bytesRead, 0), bytesWritten: outcomes.reduce((s, o) => s + o.bytesWritten, 0),
        storage: outcomes.reduce((t, o) => (o.storage ? addTotals(t, o.storage) : t), addTotals(totalsOf(storageMetrics.summary()), storageBefore, -1)),
        seconds: (performance.now() - t0) / 1000,
      };
    };
    if (state.complete) return summary("complete", [], 0);
    began = true;
    const meta = new MetadataWriter(store, prep.job.zarrFormat);
    await writeSkeleton(meta, prep);

    const todo = state.tasks.filter((t) => !state.done.has(t.id));
    const totals = {
      tasks: state.tasks.length,
      chunks: prep.plan.estimates.objects,
      bytes: prep.plan.estimates.bytesRead,
    };
    const progress = { tasksDone: state.done.size, chunksDone: 0, bytesRead: 0, bytesWritten: 0 };
    for (const o of state.done.values()) {
      progress.chunksDone += o.chunksWritten + o.chunksEmpty;
      progress.bytesRead += o.bytesRead;
      progress.bytesWritten += o.bytesWritten;
    }
    const startedAt = performance.now(), readAtStart = progress.bytesRead;
    const report = () => {
      const elapsed = (performance.now() - startedAt) / 1000;
      const rate = elapsed > 0 ? (progress.bytesRead - readAtStart) / elapsed : 0;
      opts.onProgress?.({
        tasksDone: progress.tasksDone, tasksTotal: totals.tasks, chunksDone: progress.chunksDone, chunksTotal: totals.chunks,
        bytesRead: progress.bytesRead, bytesReadTotal: totals.bytes, bytesWritten: progress.bytesWritten,
        elapsedSeconds: elapsed, throughput: rate,
        // No guess from the first small tasks (coordinates; on ECS, workers still starting).
        etaSeconds: rate > 0 && progress.bytesRead - readAtStart >= totals.bytes * 0.02 ? Math.max(0, (totals.bytes - progress.bytesRead) / rate) : null,
      });
    };
    report();
    // Inline tasks reuse the files the main thread opened; workers open their own.
    if (executorName === "inline") primeJob({ job: prep.job, collection: prep.collection, store, encodings: prep.encodings });
    else prep.collection.close();
    const executor = (await warmed) ?? (await createExecutor(executorName, { ...(opts.ecs && { ecs: opts.ecs }) }));
    let outcomes: TaskOutcome[];
    try {
      outcomes = await executor.run(prep.job, todo, {
        workers, ...(opts.attempts !== undefined && { attempts: opts.attempts }), ...(opts.signal && { signal: opts.signal }),
        estimates: prep.plan.estimates, ...(opts.onEvent && { onEvent: opts.onEvent }),
        onTaskDone: (o) => {
          progress.tasksDone++;
          progress.chunksDone += o.chunksWritten + o.chunksEmpty;
          progress.bytesRead += o.bytesRead;
          progress.bytesWritten += o.bytesWritten;
          report();
        },
      });
    } finally {
      primed.delete(prep.job.id);
      await executor.close();
    }
    await finish(store, meta, prep);
    const mode = opts.append ? "append" : state.done.size ? "resume" : "create";
    return summary(mode, [...state.done.values(), ...outcomes], state.done.size);
  } catch (e) {
    // A failed fresh run leaves nothing that looks complete: remove what it wrote. Appends and
    // resumable runs keep their state (the marker says incomplete; --resume continues).
    if (began && !opts.append && !opts.resume && !isResumable(e)) {
      if (createdOut) await rm(opts.out, { recursive: true, force: true }).catch(() => {});
      else await store.deletePrefix("/").catch(() => {});
    } else if (began) {
      // The run is over; its store stays for --resume, which may come from this same process.
      await releaseLock(store).catch(() => {});
    }
    throw e;
  } finally {
    prep.collection.close();
    // Closing twice is harmless: also when the run ended before it used the early pool.
    await warmed?.then((x) => x?.close());
  }
}

/** Failures a resumed run could get past (cancellation, crashed workers) keep the partial store. */
function isResumable(e: unknown): boolean {
  return e instanceof ConvertError && (e._tag === "Remote" || e._tag === "Pool" || /cancelled|worker failed/.test(e.message));
}

/** The dry run behind `convert-to-zarr plan`. */
export async function planConversion(inputs: string[], opts: ConvertOptions): Promise<{ job: JobSpec; plan: Plan; skipped: PreparedJob["skipped"]; notCopied: NonNullable<PreparedJob["notCopied"]> }> {
  const prep = await prepareJob(inputs, opts);
  prep.collection.close();
  return { job: prep.job, plan: prep.plan, skipped: prep.skipped, notCopied: prep.notCopied ?? [] };
}
