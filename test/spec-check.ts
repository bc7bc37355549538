/**
 * Spec-level checks of what we write, independent of any reader: every zarr.json (v3) or
 * .zarray/.zgroup (v2) is well-formed, and the consolidated metadata lists exactly the store's nodes.
 */
import { readFileSync } from "node:fs";
import { FsStore } from "../lib/store/fs.js";
import { parseJson } from "../lib/zarr/json.js";

const V3_TYPES = new Set(["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64", "complex64", "complex128", "string"]);
/** zarr-python's registered extension data types that we write (zarr-extensions' data-types). */
function isExtensionType(t: unknown): boolean {
  const x = t as { name?: string; configuration?: Record<string, unknown> } | null;
  if (x?.name === "null_terminated_bytes") return Number.isInteger(x.configuration?.["length_bytes"]) && Number(x.configuration?.["length_bytes"]) > 0;
  // A compound: named fields of core numeric types (zarr-python's "structured").
  if (x?.name === "structured") {
    const fields = x.configuration?.["fields"];
    return Array.isArray(fields) && fields.length > 0 && fields.every((f) =>
      Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && f[0] !== "" && V3_TYPES.has(String(f[1])));
  }
  return false;
}
const V2_DTYPE = /^[<>|][iufbSUO]\d*$/;
/** A v2 dtype: a numpy typestr, or a structured type's list of [name, typestr] fields. */
const isV2DType = (d: unknown) => Array.isArray(d)
  ? d.length > 0 && d.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === "string" && V2_DTYPE.test(String(f[1])))
  : V2_DTYPE.test(String(d));

export async function specProblems(storeDir: string): Promise<string[]> {
  const store = new FsStore(storeDir);
  const problems: string[] = [];
  const keys: string[] = [];
  for await (const k of store.list("/")) keys.push(k);
  const read = (k: string) => parseJson(readFileSync(`${storeDir}${k}`, "utf8")) as Record<string, unknown>;
  if (keys.some((k) => k.endsWith(".partial"))) problems.push("temporary .partial files left behind");
  if (keys.includes("/zarr.json")) {
    const docs = keys.filter((k) => k.endsWith("zarr.json"));
    const root = read("/zarr.json");
    const cm = (root["consolidated_metadata"] as { kind?: string; metadata?: Record<string, unknown> } | undefined);
    if (root["zarr_format"] !== 3 || root["node_type"] !== "group") problems.push("root zarr.json is not a v3 group");
    if (cm?.kind !== "inline") problems.push("root has no inline consolidated_metadata");
    const listed = Object.keys(cm?.metadata ?? {}).sort();
    const present = docs.filter((k) => k !== "/zarr.json").map((k) => k.slice(1, -"/zarr.json".length)).sort();
    if (JSON.stringify(listed) !== JSON.stringify(present)) problems.push(`consolidated metadata lists ${listed.length} nodes, store has ${present.length}`);
    for (const k of docs) {
      const d = read(k);
      if (d["zarr_format"] !== 3) problems.push(`${k}: zarr_format is not 3`);
      if (d["node_type"] !== "array") continue;
      const shape = d["shape"] as number[];
      const grid = d["chunk_grid"] as { name: string; configuration: { chunk_shape: number[] } };
      const codecs = d["codecs"] as { name: string }[];
      if (!V3_TYPES.has(String(d["data_type"])) && !isExtensionType(d["data_type"])) problems.push(`${k}: data_type ${JSON.stringify(d["data_type"])} is neither a core v3 type nor a registered extension`);
      if (d["fill_value"] === null || d["fill_value"] === undefined) problems.push(`${k}: fill_value is null`);
      if (grid?.name !== "regular" || grid.configuration.chunk_shape.length !== shape.length) problems.push(`${k}: bad chunk_grid`);
      if (grid?.configuration.chunk_shape.some((c) => !(c >= 1))) problems.push(`${k}: chunk sizes must be ≥ 1`);
      if (!Array.isArray(codecs) || !["bytes", "vlen-utf8"].includes(codecs[0]?.name ?? "")) problems.push(`${k}: first codec must be array→bytes`);
      const names = d["dimension_names"] as unknown[];
      if (!Array.isArray(names) || names.length !== shape.length) problems.push(`${k}: dimension_names does not match shape`);
      if (d["data_type"] === "string" && typeof d["fill_value"] !== "string") problems.push(`${k}: string array needs a string fill_value`);
    }
  } else if (keys.includes("/.zgroup")) {
    const zm = read("/.zmetadata") as { zarr_consolidated_format?: number; metadata?: Record<string, unknown> };
    if (zm.zarr_consolidated_format !== 1) problems.push(".zmetadata has no zarr_consolidated_format 1");
    const docs = keys.filter((k) => /\/\.z(array|group|attrs)$/.test(k)).map((k) => k.slice(1)).sort();
    const listed = Object.keys(zm.metadata ?? {}).sort();
    if (JSON.stringify(docs) !== JSON.stringify(listed)) problems.push(`.zmetadata lists ${listed.length} documents, store has ${docs.length}`);
    for (const k of keys.filter((x) => x.endsWith("/.zarray"))) {
      const d = read(k);
      if (d["zarr_format"] !== 2) problems.push(`${k}: zarr_format is not 2`);
      if (!isV2DType(d["dtype"])) problems.push(`${k}: bad dtype ${String(d["dtype"])}`);
      if ((d["chunks"] as number[]).length !== (d["shape"] as number[]).length) problems.push(`${k}: chunks do not match shape`);
      const attrs = read(k.replace(/\.zarray$/, ".zattrs"));
      if (!Array.isArray(attrs["_ARRAY_DIMENSIONS"])) problems.push(`${k}: no _ARRAY_DIMENSIONS`);
    }
  } else {
    problems.push("no root zarr.json or .zgroup");
  }
  if (keys.includes("/.convert-to-zarr-in-progress")) problems.push("in-progress marker left behind");
  return problems;
}
