/**
 * Reading a finished store: refuses one still marked in progress or without root metadata, and
 * returns its consolidated metadata documents (tolerating zarr-python 2's bare NaN).
 */
import { ConvertError } from "../errors.js";
import { parseJson } from "../zarr/json.js";
import { IN_PROGRESS_KEY } from "../zarr/layout.js";
import type { ZarrFormat } from "../zarr/encoding.js";
import type { Store, StoreKey } from "./types.js";

export interface StoreContents {
  format: ZarrFormat;
  /** Root group attributes. */
  rootAttrs: Record<string, unknown>;
  /** Relative path ("sst", "grp/sst", "grp") → v2 {".zarray"|".zgroup", ".zattrs"} merged, or v3 zarr.json. */
  nodes: Map<string, { kind: "array" | "group"; meta: Record<string, unknown>; attrs: Record<string, unknown> }>;
}

/** A JSON document from a store (zarr-python's NaN and exact big integers accepted), or undefined. */
export async function getJson<T = Record<string, unknown>>(store: Store, key: StoreKey, opts: { keepFloats?: boolean } = {}): Promise<T | undefined> {
  const b = await store.get(key);
  return b ? (parseJson(new TextDecoder().decode(b), opts) as T) : undefined;
}

/** zarrita returns v2 `|S1` data as a ByteStringArray; its bytes are what we compare and copy. */
export function zarritaData(data: unknown): unknown {
  return data && typeof data === "object" && "_data" in data && "chars" in data ? (data as { _data: Uint8Array })._data : data;
}

export async function readStoreContents(store: Store): Promise<StoreContents> {
  const { contents, complete } = await readStoreContentsChecking(store);
  await complete;
  return contents;
}

/**
 * The same, returned while the in-progress check may still be under way: `complete` rejects when the
 * store is incomplete, and a reader must await it before handing out any value. On object storage
 * the first round trip then waits for two requests, not three (each costs a first-byte latency, and
 * a round waits for its slowest).
 */
export async function readStoreContentsChecking(store: Store): Promise<{ contents: StoreContents; complete: Promise<void> }> {
  const complete = store.has(IN_PROGRESS_KEY).then((inProgress) => {
    if (inProgress) throw new ConvertError("Incomplete", "store is incomplete: a conversion is in progress or was interrupted", store.url);
  });
  complete.catch(() => {}); // awaited by the caller
  try {
    return { contents: await consolidatedContents(store), complete };
  } catch (e) {
    await complete; // an interrupted store says so, rather than what it lacks
    throw e;
  }
}

async function consolidatedContents(store: Store): Promise<StoreContents> {
  // One round trip, not two: on object storage each costs a first-byte latency.
  const [v3, zm] = await Promise.all([getJson(store, "/zarr.json"), getJson(store, "/.zmetadata")]);
  const nodes: StoreContents["nodes"] = new Map();
  if (v3) {
    const cm = v3["consolidated_metadata"] as { metadata?: Record<string, Record<string, unknown>> } | undefined;
    if (!cm?.metadata) throw new ConvertError("Incomplete", "zarr.json has no consolidated metadata", store.url);
    for (const [k, m] of Object.entries(cm.metadata)) {
      nodes.set(k, { kind: m["node_type"] === "array" ? "array" : "group", meta: m, attrs: (m["attributes"] ?? {}) as Record<string, unknown> });
    }
    return { format: 3, rootAttrs: (v3["attributes"] ?? {}) as Record<string, unknown>, nodes };
  }
  if (!zm) throw new ConvertError("Incomplete", "not a complete Zarr store (no zarr.json or .zmetadata)", store.url);
  const md = (zm["metadata"] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [k, doc] of Object.entries(md)) {
    const m = /^(?:(.*)\/)?(\.zarray|\.zgroup)$/.exec(k);
    if (!m) continue;
    const rel = m[1] ?? "";
    if (rel === "") continue;
    nodes.set(rel, { kind: m[2] === ".zarray" ? "array" : "group", meta: doc, attrs: md[`${rel}/.zattrs`] ?? {} });
  }
  return { format: 2, rootAttrs: md[".zattrs"] ?? {}, nodes };
}

/**
 * The store as zarrita can read it. zarrita parses metadata with JSON.parse, which rejects the bare
 * NaN that zarr-python 2 writes in `.zattrs` and rounds int64 fill values past 2^53: such documents
 * are rewritten into strict JSON, those fill values as exact decimal strings. And
 * zarrita has no v3 fixed-bytes type: a `null_terminated_bytes` array of one byte (our NC_CHAR) is
 * shown as `uint8`, the same bytes on disk, its base64 fill_value as that byte.
 *
 * Nor has zarrita structured types (our compounds, both formats): such an array is shown as `uint8`
 * with one more, last axis of the record's bytes, chunked whole, so that each chunk is the same
 * object with the same bytes (its key loses the extra coordinate). Its fill_value is shown as 0:
 * a reader must take a chunk absent from the store as the array's own fill records, not zarrita's
 * (verify does; see structuredRecordBytes).
 */
export function zarritaView(store: Store): { get(key: StoreKey): Promise<Uint8Array | undefined> } {
  /** Arrays shown with a byte axis: their key prefix ("/obs/") → format and rank. */
  const structured = new Map<string, { format: 2 | 3; rank: number }>();
  return {
    async get(key: StoreKey) {
      const slash = key.lastIndexOf("/"), dir = key.slice(0, slash + 1), name = key.slice(slash + 1);
      for (const [prefix, s] of structured) {
        if (!key.startsWith(prefix) || /^(zarr\.json|\.zarray|\.zattrs)$/.test(key.slice(prefix.length))) continue;
        const rest = key.slice(prefix.length);
        const real = s.format === 3 ? rest.replace(/\/0$/, "") : s.rank === 0 ? rest : rest.replace(/\.0$/, "");
        return store.get(`${prefix}${real}` as StoreKey);
      }
      const b = await store.get(key);
      if (!b) return b;
      if (name === "zarr.json" || name === ".zarray") {
        const shown = structuredAsBytes(b, name === "zarr.json" ? 3 : 2);
        if (shown) {
          structured.set(dir, shown.info);
          return shown.doc;
        }
      }
      if (name === "zarr.json") {
        const shown = charsAsBytes(b);
        if (shown !== b) return shown;
      }
      if (!/(zarr\.json|\.zattrs|\.zmetadata|\.zarray)$/.test(key)) return b;
      const text = new TextDecoder().decode(b);
      // Bare NaN, or an integer past 2^53 (an int64 fill_value, which JSON.parse would round: zarrita
      // takes the exact one as a string).
      if (!/\bNaN\b|Infinity|\d{16}/.test(text)) return b;
      const strict = JSON.stringify(parseJson(text), (k, v: unknown) =>
        typeof v === "number" && !Number.isFinite(v) ? String(v) : typeof v === "bigint" ? (k === "fill_value" ? String(v) : Number(v)) : v,
      );
      return new TextEncoder().encode(strict);
    },
  };
}

/**
 * One chunk of a structured array read through zarritaView: its record bytes (the extra record axis
 * adds a coordinate 0), or undefined when the store holds no such chunk — then it is all fill
 * records, which the view cannot show (it shows the fill as 0).
 */
export async function recordChunk(
  store: Store, arr: { getChunk(coords: number[]): Promise<{ data: unknown }> }, key: StoreKey, coords: readonly number[],
): Promise<Uint8Array | undefined> {
  if (!(await store.has(key))) return undefined;
  return zarritaData((await arr.getChunk([...coords, 0])).data) as Uint8Array;
}

// (model.ts's itemSize by name: the store layer sits below the model and reads names from metadata)
const FIELD_BYTES: Record<string, number> = {
  int8: 1, uint8: 1, int16: 2, uint16: 2, int32: 4, uint32: 4, int64: 8, uint64: 8, float32: 4, float64: 8,
};

/** A structured array's record size from its metadata, or undefined for any other array. */
export function structuredRecordBytes(meta: Record<string, unknown>): number | undefined {
  const t = meta["data_type"] as { name?: string; configuration?: { fields?: [string, string][] } } | undefined;
  if (t?.name === "structured") return (t.configuration?.fields ?? []).reduce((a, [, ty]) => a + (FIELD_BYTES[ty] ?? NaN), 0);
  const d = meta["dtype"];
  if (Array.isArray(d)) return (d as [string, string][]).reduce((a, [, ty]) => a + Number(/\d+$/.exec(ty)?.[0] ?? NaN), 0);
  return undefined;
}

const strictJson = (doc: unknown) => JSON.stringify(doc, (_k, v: unknown) =>
  typeof v === "number" && !Number.isFinite(v) ? String(v) : typeof v === "bigint" ? Number(v) : v);

function structuredAsBytes(b: Uint8Array, format: 2 | 3): { doc: Uint8Array; info: { format: 2 | 3; rank: number } } | undefined {
  const text = new TextDecoder().decode(b);
  if (format === 3 ? !text.includes('"structured"') : !/"dtype"\s*:\s*\[/.test(text)) return undefined;
  const doc = parseJson(text) as Record<string, unknown>;
  const size = structuredRecordBytes(doc);
  if (!size || !Number.isInteger(size)) return undefined;
  const shape = doc["shape"] as number[];
  const info = { format, rank: shape.length };
  if (format === 2) {
    const shown = { ...doc, dtype: "|u1", shape: [...shape, size], chunks: [...(doc["chunks"] as number[]), size], fill_value: 0 };
    return { doc: new TextEncoder().encode(strictJson(shown)), info };
  }
  const grid = doc["chunk_grid"] as { configuration: { chunk_shape: number[] } };
  const shown = {
    ...doc, data_type: "uint8", shape: [...shape, size], fill_value: 0,
    chunk_grid: { name: "regular", configuration: { chunk_shape: [...grid.configuration.chunk_shape, size] } },
    ...(Array.isArray(doc["dimension_names"]) && { dimension_names: [...(doc["dimension_names"] as unknown[]), null] }),
  };
  return { doc: new TextEncoder().encode(strictJson(shown)), info };
}

function charsAsBytes(b: Uint8Array): Uint8Array {
  const text = new TextDecoder().decode(b);
  if (!text.includes("null_terminated_bytes")) return b;
  const doc = parseJson(text) as Record<string, unknown>;
  const type = doc["data_type"] as { name?: string; configuration?: { length_bytes?: number } } | undefined;
  if (type?.name !== "null_terminated_bytes" || type.configuration?.length_bytes !== 1) return b;
  const fill = Buffer.from(String(doc["fill_value"] ?? ""), "base64")[0] ?? 0;
  return new TextEncoder().encode(strictJson({ ...doc, data_type: "uint8", fill_value: fill }));
}

/**
 * The store's metadata documents as written (floats kept as floats), keyed by store path without the
 * leading slash ("T2M/.zarray", "grp/zarr.json"), for rewriting them; plus the root attributes.
 */
export async function readRawDocs(store: Store): Promise<{ format: ZarrFormat; docs: Map<string, Record<string, unknown>>; rootAttrs: Record<string, unknown> }> {
  const json = (key: StoreKey) => getJson(store, key, { keepFloats: true });
  const docs = new Map<string, Record<string, unknown>>();
  const v3 = await json("/zarr.json");
  if (v3) {
    const md = ((v3["consolidated_metadata"] as { metadata?: Record<string, Record<string, unknown>> } | undefined)?.metadata) ?? {};
    for (const [k, d] of Object.entries(md)) docs.set(`${k}/zarr.json`, d);
    return { format: 3, docs, rootAttrs: (v3["attributes"] ?? {}) as Record<string, unknown> };
  }
  const zm = await json("/.zmetadata");
  if (!zm) throw new ConvertError("Incomplete", "not a complete Zarr store (no zarr.json or .zmetadata)", store.url);
  const md = (zm["metadata"] ?? {}) as Record<string, Record<string, unknown>>;
  for (const [k, d] of Object.entries(md)) if (k !== ".zattrs" && k !== ".zgroup") docs.set(k, d);
  return { format: 2, docs, rootAttrs: md[".zattrs"] ?? {} };
}
