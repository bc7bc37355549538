/** The curated public surface (lib/index.ts), frozen: a change here is a deliberate API change. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../lib/index.js";

test("public API", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "ConvertError", "FsStore", "CODEC_NAMES", "DEFAULT_MAX_MEM", "EXECUTOR_NAMES", "TARGET_BYTES", "autoChunks",
    "chooseChunks", "convert", "createExecutor", "describeError", "findVariable", "formatBytes", "formatInspect",
    "hasNativeZstd", "inspect", "isConvertError", "openCollection", "openSource", "parseBytes", "parseChunkSpec",
    "planArray", "planConversion", "planJob", "readStoreContents", "runTask", "sniffFormat", "verify",
    "walkGroups", "walkVariables",
    // object storage
    "S3Store", "openStore", "RequestMetrics", "withMetrics", "storageMetrics", "withReadCache", "withLatency",
    "resolveS3Settings", "useS3Settings", "resolveInputS3Settings", "useInputS3Settings", "setInputAccess", "expandInputs", "openByteSource", "setRemoteMode", "startLocalS3",
    "startProxy", "startProxyProcess", "PROFILES",
    // the latency benchmark
    "runBench", "coldStart", "runQuery", "resolveQuery", "decodeCF", "QUERY_KINDS", "openNetcdfDataset", "openZarrDataset",
    "stats", "lowerBoundMs", "lowerBoundFromSpans", "chunkSweep", "formatBench", "formatSweep", "latencyChart", "timeSeriesChart", "sweepChart",
    // the ECS worker pool
    "EcsExecutor", "stopPoolWorkers", "resolveEcsSettings", "readStackConfig", "fetchStackConfig", "stackParameterName",
    "estimateEcsCost", "formatCostEstimate", "startLocalEcs",
  ].sort());
});
