/** The curated public surface (lib/index.ts), frozen: a change here is a deliberate API change. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../lib/index.js";

test("public API", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "ConvertError", "FsStore", "CODEC_NAMES", "TARGET_BYTES", "autoChunks", "chooseChunks", "convert",
    "describeError", "findVariable", "formatBytes", "formatInspect", "hasNativeZstd", "inspect",
    "isConvertError", "openCollection", "openSource", "parseChunkSpec", "readStoreContents", "sniffFormat",
    "verify", "walkGroups", "walkVariables",
  ].sort());
});
