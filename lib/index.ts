/**
 * convert-to-zarr: NetCDF-3 and NetCDF-4/HDF5 files → Zarr v2/v3 stores, losslessly, verifiably.
 *
 * @example
 * ```ts
 * import { inspect, convert, verify } from "convert-to-zarr";
 * const info = await inspect(["day1.nc", "day2.nc"]);          // metadata only
 * await convert(["day1.nc", "day2.nc"], { out: "days.zarr", chunks: { time: 48 } });
 * const report = await verify(["day1.nc", "day2.nc"], "days.zarr"); // throws on the first difference
 * ```
 *
 * Everything a user can get wrong surfaces as a {@link ConvertError} with a `_tag`; test for it
 * with {@link isConvertError} and show {@link describeError}'s one line.
 */

// Converting (and appending, resuming), planning, verifying, inspecting
export { convert, planConversion, DEFAULT_MAX_MEM } from "./convert.js";
export type { ConvertOptions, ConvertProgress, ConvertSummary, ArraySummary } from "./convert.js";
export { verify } from "./verify.js";
export type { VerifyOptions, VerifyReport } from "./verify.js";
export { inspect, formatInspect } from "./inspect.js";
export { formatBytes } from "./format.js";
export type { InspectResult } from "./inspect.js";

// Reading NetCDF
export { openSource } from "./source/open.js";
export type { SourceFile } from "./source/types.js";
export { sniffFormat } from "./source/sniff.js";
export { openCollection } from "./collection.js";
export type { Collection, CollectionOptions } from "./collection.js";

// The dataset model
export type {
  ArrayData, Attribute, AttrValue, Dataset, Dimension, DType, Group, SourceFormat, Variable,
} from "./model.js";
export { walkGroups, walkVariables, findVariable } from "./model.js";

// Planning: chunk choice, tasks under a memory budget
export { parseChunkSpec, autoChunks, chooseChunks, TARGET_BYTES } from "./plan/chunks.js";
export type { ChunkSpec } from "./plan/chunks.js";
export { planArray, planJob } from "./plan/planner.js";
export { parseBytes } from "./plan/sizes.js";
export type { ArrayInput, ArrayPlan, JobSpec, Plan, PlanEstimates, SourceAxis, TaskSpec } from "./plan/types.js";

// Executors: the same runTask inline, on worker threads, in child processes
export { createExecutor, EXECUTOR_NAMES } from "./exec/registry.js";
export type { Executor, ExecutorName, ExecOptions } from "./exec/types.js";
export { runTask } from "./exec/task.js";
export type { TaskOutcome } from "./exec/task.js";

// The ECS (Fargate) worker pool: settings from the deployed stack, the cost estimate, a local ECS endpoint
export { EcsExecutor, stopPoolWorkers } from "./exec/ecs/executor.js";
export { resolveEcsSettings, readStackConfig, fetchStackConfig, stackParameterName } from "./exec/ecs/config.js";
export type { EcsSettings, StackConfig } from "./exec/ecs/config.js";
export { estimateEcsCost, formatCostEstimate } from "./exec/ecs/cost.js";
export type { CostEstimate } from "./exec/ecs/cost.js";
export type { ExecEvent } from "./exec/types.js";
export { startLocalEcs } from "./ecslocal/server.js";
export type { LocalEcs, LocalEcsOptions, LocalTaskDefinition, LocalTask } from "./ecslocal/server.js";

// Zarr choices
export { CODEC_NAMES, hasNativeZstd } from "./zarr/codecs.js";
export type { CodecName } from "./zarr/codecs.js";
export type { ZarrFormat } from "./zarr/encoding.js";

// Stores: local disk and S3 behind one interface, and wrappers that compose
export { FsStore } from "./store/fs.js";
export { S3Store } from "./store/s3.js";
export { openStore } from "./store/open.js";
export type { Store, StoreKey } from "./store/types.js";
export { readStoreContents } from "./store/read.js";
export { RequestMetrics, withMetrics, storageMetrics } from "./store/metrics.js";
export type { MetricsSummary, StorageTotals } from "./store/metrics.js";
export { withReadCache, withLatency } from "./store/wrappers.js";
export { resolveS3Settings, useS3Settings, resolveInputS3Settings, useInputS3Settings, setInputAccess } from "./store/s3-config.js";
export type { S3Settings, InputAccess } from "./store/s3-config.js";

// Inputs on object storage
export { expandInputs } from "./io/inputs.js";
export { openByteSource, setRemoteMode } from "./io/open.js";
export type { ByteSource } from "./io/byte-source.js";
export type { RemoteMode } from "./io/open.js";

// The local S3 endpoint and the latency / fault proxy
export { startLocalS3, startProxyProcess } from "./s3local/start.js";
export type { LocalS3, LocalS3Options } from "./s3local/start.js";
export { startProxy, PROFILES } from "./s3local/proxy.js";
export type { LatencyProfile, FaultOptions, FaultKind, Proxy } from "./s3local/proxy.js";

// Read-latency benchmark: queries by coordinate values on NetCDF and Zarr, statistics, sweeps, charts
export { runBench, coldStart } from "./bench/run.js";
export type { BenchOptions, BenchReport, BenchLine, Source } from "./bench/run.js";
export { runQuery, resolveQuery, decodeCF, QUERY_KINDS } from "./bench/queries.js";
export type { QueryKind, QuerySpec, QueryResult } from "./bench/queries.js";
export { openNetcdfDataset, openZarrDataset } from "./bench/readers.js";
export type { QueryDataset } from "./bench/readers.js";
export { stats, lowerBoundMs, lowerBoundFromSpans } from "./bench/stats.js";
export { chunkSweep } from "./bench/sweep.js";
export type { SweepOptions, SweepPoint } from "./bench/sweep.js";
export { formatBench, formatSweep } from "./bench/table.js";
export { latencyChart, timeSeriesChart, sweepChart } from "./notebook/charts.js";
export type { Figure } from "./notebook/charts.js";

// Errors
export { ConvertError, isConvertError, describeError } from "./errors.js";
export type { ErrorTag } from "./errors.js";
