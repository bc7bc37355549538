/**
 * Appending files to an existing store along its concat dimension (the original sample appends seven
 * more days). The new files must match the store — variables, dtypes, dimensions, chunking, codec,
 * decoding attributes, and the values of every array without the concat dimension — and their
 * coordinate must continue the stored one, which also refuses appending the same files twice.
 * The tasks then write the chunk rows from the stored length on, rewriting the partial last row.
 */
import * as zarr from "zarrita";
import { openCollection } from "./collection.js";
import type { ConvertOptions, PreparedJob } from "./convert.js";
import { DEFAULT_MAX_MEM, planInputs } from "./convert.js";
import { ConvertError, isConvertError } from "./errors.js";
import { buildEncodings, jobId } from "./exec/job.js";
import { normalizeLocation, openStore } from "./store/open.js";
import { expandInputs } from "./io/inputs.js";
import { findVariable, getAttr } from "./model.js";
import { planJob } from "./plan/planner.js";
import type { JobSpec } from "./plan/types.js";
import { readRawDocs, zarritaView } from "./store/read.js";
import { attrsToJson } from "./zarr/attrs.js";
import { codecOfMetadata } from "./zarr/codecs.js";
import { dataTypeJson, fillValueJson } from "./zarr/encoding.js";
import { encodeJson } from "./zarr/json.js";
import { IN_PROGRESS_KEY } from "./zarr/layout.js";
import { compareValues, storedTimeTargets, storedUnpacked } from "./verify.js";

/** Attributes that decide how values decode: new files must carry the store's. */
const ENCODING_ATTRS = ["scale_factor", "add_offset", "missing_value", "units", "calendar", "_Unsigned"];

const same = (a: unknown, b: unknown) => encodeJson(a) === encodeJson(b);

/** The store's arrays as written: path, metadata document, attributes, dimensions, shape and chunks. */
function storedArrays(format: 2 | 3, docs: Map<string, Record<string, unknown>>) {
  return [...docs].flatMap(([key, doc]) => {
    const m = /^(.*)\/(\.zarray|zarr\.json)$/.exec(key);
    if (!m || (m[2] === "zarr.json" && doc["node_type"] !== "array")) return [];
    const attrs = (format === 2 ? docs.get(`${m[1]}/.zattrs`) : doc["attributes"]) as Record<string, unknown> ?? {};
    const dims = (format === 2 ? attrs["_ARRAY_DIMENSIONS"] : doc["dimension_names"]) as string[];
    const chunks = format === 2 ? (doc["chunks"] as number[]) : (doc["chunk_grid"] as { configuration: { chunk_shape: number[] } }).configuration.chunk_shape;
    return [{ rel: m[1]!, doc, attrs, dims, shape: doc["shape"] as number[], chunks }];
  });
}

export async function prepareAppend(inputs: string[], opts: ConvertOptions): Promise<PreparedJob> {
  const store = openStore(opts.out);
  if (!opts.resume && (await store.has(IN_PROGRESS_KEY))) {
    throw new ConvertError("Incomplete", "the store has an interrupted run; finish it with --resume (and the same files) first", opts.out);
  }
  const { format, docs, rootAttrs } = await readRawDocs(store);
  const arrays = storedArrays(format, docs);
  // New files' times are re-expressed in the units (and type) the store holds them in.
  const nodes = { format, nodes: new Map(arrays.map((a) => [a.rel, { kind: "array" as const, meta: a.doc, attrs: a.attrs }])) };
  // ... and packed variables the store holds unpacked are unpacked alike.
  const collection = await openCollection((await expandInputs(inputs)).map(normalizeLocation), {
    ...(opts.concatDim && { concatDim: opts.concatDim }), timeTargets: storedTimeTargets(nodes), unpack: storedUnpacked(nodes),
  });
  try {
    const ds = collection.dataset;
    const dim = collection.concatDim ?? opts.concatDim ?? ds.root.dims.find((d) => d.unlimited)?.name;
    if (!dim) throw new ConvertError("Usage", "no unlimited dimension to append along; pass --concat-dim NAME", inputs[0]);
    const first = collection.files[0]!.path;
    // Typed as a never-returning function so TypeScript narrows after calls to it.
    const mismatch: (what: string) => never = (what) => {
      throw new ConvertError("Mismatch", `does not match the store ${opts.out}: ${what}`, first);
    };

    const withDim = arrays.filter((a) => a.dims.includes(dim));
    if (withDim.length === 0) mismatch(`no array in the store has the dimension ${dim}`);
    const oldLength = withDim[0]!.shape[withDim[0]!.dims.indexOf(dim)]!;
    const { codec, level } = codecOfMetadata(format, withDim[0]!.doc);
    // Per appended array: arrays without the concat dimension are not written, whatever their codec.
    const shuffled = new Map(withDim.map((a) => [`/${a.rel}`, codecOfMetadata(format, a.doc).shuffle]));

    const chunks: Record<string, number[]> = {};
    for (const a of arrays) {
      const v = findVariable(ds, `/${a.rel}`);
      if (!v) mismatch(`variable /${a.rel} is missing`);
      if (v.unsupported) mismatch(`variable ${v.path} has an unsupported ${v.unsupported}`);
      if (!same(v.dims, a.dims)) mismatch(`variable ${v.path} has dimensions (${v.dims.join(", ")}), the store (${a.dims.join(", ")})`);
      const axis = a.dims.indexOf(dim);
      v.shape.forEach((n, i) => {
        if (i !== axis && n !== a.shape[i]) mismatch(`variable ${v.path} has ${a.dims[i]} = ${n}, the store ${a.shape[i]}`);
      });
      for (const name of ENCODING_ATTRS) {
        const mine = getAttr(v.attrs, name);
        const theirs = a.attrs[name];
        const mineJson = mine ? attrsToJson([mine])[name] : undefined;
        if (!same(mineJson, theirs)) mismatch(`variable ${v.path} attribute ${name} is ${encodeJson(mineJson ?? null)}, the store has ${encodeJson(theirs ?? null)}`);
      }
      if (axis >= 0) {
        chunks[v.path] = a.chunks;
      }
    }
    // The store's own encoding must come out of the new files too (dtype, fill value, codec).
    const spec: Omit<JobSpec, "id"> = {
      inputs: collection.files.map((f) => f.path), concatDim: dim, store: normalizeLocation(opts.out), zarrFormat: format,
      codec, level, shuffle: [...shuffled.values()].some(Boolean), chunks, skipUnsupported: false, append: { concatDim: dim, oldLength },
      ...(Object.keys(collection.recode).length && { recode: collection.recode }),
    };
    const job: JobSpec = { id: jobId({ ...spec, store: "" }), ...spec };
    const encodings = await buildEncodings(collection, job);
    for (const e of encodings.values()) {
      const a = arrays.find((x) => `/${x.rel}` === e.variable.path)!;
      const storedType = format === 2 ? a.doc["dtype"] : a.doc["data_type"];
      if (!same(dataTypeJson(format, e.variable), storedType)) {
        mismatch(`variable ${e.variable.path} has dtype ${e.dtype}, the store ${encodeJson(storedType ?? null)}`);
      }
      // The job shuffles if any array is shuffled; a store that shuffles some of its arrays only is not ours.
      const stored = shuffled.get(e.variable.path)!;
      if (stored !== (e.compressor.shuffle !== undefined)) {
        mismatch(`variable ${e.variable.path} is stored ${stored ? "with byte shuffle; this append would not shuffle it" : "without byte shuffle; this append would shuffle it"}`);
      }
      // The mask: v2 keeps it in fill_value; v3 in the _FillValue attribute, text fills in fill_value only.
      const fillText = (x: unknown) => (typeof x === "number" && Number.isNaN(x) ? "NaN" : encodeJson(x ?? null));
      const textFill = format === 3 && (e.dtype === "char" || e.dtype === "string");
      const storedFill = format === 2 ? a.doc["fill_value"] : textFill ? a.doc["fill_value"] : a.attrs["_FillValue"];
      const newFill = format === 2 ? e.fill : textFill ? fillValueJson(e) : e.attrs["_FillValue"];
      if (fillText(storedFill) !== fillText(newFill) && !(format === 2 && String(storedFill) === fillText(newFill))) {
        mismatch(`variable ${e.variable.path} has _FillValue ${fillText(newFill)}, the store ${fillText(storedFill)}`);
      }
    }

    // Arrays without the concat dimension (coordinates, masks) must hold the same values.
    const root = zarr.root(zarritaView(store));
    for (const a of arrays.filter((x) => !x.dims.includes(dim))) {
      const v = findVariable(ds, `/${a.rel}`)!;
      const loc = root.resolve(a.rel);
      const arr = format === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
      try {
        await compareValues(opts.out, collection.read, v, arr, a.shape);
      } catch (e) {
        if (isConvertError(e, "VerifyFailed")) mismatch(e.message.replace(/^variable /, "variable ").replace(/source (.*), store/, "file $1, store"));
        throw e;
      }
    }

    // The concat coordinate must continue after the stored one: this also refuses the same files twice.
    const coord = arrays.find((a) => a.rel === dim && a.dims.length === 1);
    const newCoord = findVariable(ds, `/${dim}`);
    if (coord && newCoord && newCoord.shape[0]! > 0 && oldLength > 0 && !opts.resume) {
      const loc = root.resolve(coord.rel);
      const arr = format === 2 ? await zarr.open.v2(loc, { kind: "array" }) : await zarr.open.v3(loc, { kind: "array" });
      const tail = (await zarr.get(arr, [zarr.slice(oldLength - 1, oldLength)])).data as unknown as ArrayLike<number | bigint>;
      const last = Number(tail[0]!);
      const firstNew = Number((collection.read(newCoord.path, [0], [1]) as unknown as ArrayLike<number | bigint>)[0]!);
      if (!(firstNew > last)) {
        mismatch(`${dim} starts at ${firstNew}, not after the store's last ${dim} ${last} (already appended?)`);
      }
    }

    const plan = planJob(planInputs(collection, encodings, job), { maxMem: opts.maxMem ?? DEFAULT_MAX_MEM, workers: opts.workers ?? 1 });
    // The store's documents, with the new length along the concat dimension.
    const newLength = oldLength + collection.dataset.root.dims.find((d) => d.name === dim)!.size;
    const appendDocs = new Map<string, Record<string, unknown>>();
    for (const [key, doc] of docs) {
      const a = arrays.find((x) => key === `${x.rel}/.zarray` || key === `${x.rel}/zarr.json`);
      const axis = a ? a.dims.indexOf(dim) : -1;
      if (a && axis >= 0) appendDocs.set(key, { ...doc, shape: a.shape.map((n, i) => (i === axis ? newLength : n)) });
      else appendDocs.set(key, doc);
    }
    return { collection, job, plan, encodings, skipped: [], rootAttrs, appendDocs };
  } catch (e) {
    collection.close();
    throw e;
  }
}
