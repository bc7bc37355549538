/**
 * The in-memory picture of a NetCDF dataset: groups, dimensions, variables and attributes, with
 * everything kept exactly as stored (no CF decoding). Sources fill it; the Zarr writer reads it.
 */

/**
 * Element types a variable or attribute can have. `char` is NetCDF's NC_CHAR (one byte). `compound`
 * is a NetCDF-4 compound of numeric scalars (see CompoundType): each element is one record, held as
 * its packed little-endian bytes, so its size is the variable's, not the type name's.
 */
export type DType =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64"
  | "float32" | "float64" | "char" | "string" | "compound";

/** The numeric types a compound's fields may have. */
export type FieldType = Exclude<DType, "char" | "string" | "compound">;

/**
 * Bytes per element of a type. A compound's size depends on its fields: use elementSize(variable)
 * (this throws for it, so that no caller silently takes a wrong size).
 */
export function itemSize(d: DType): number {
  switch (d) {
    case "compound": throw new Error("the size of a compound element is its variable's: use elementSize()");
    case "int8": case "uint8": case "char": return 1;
    case "int16": case "uint16": return 2;
    case "int32": case "uint32": case "float32": return 4;
    case "int64": case "uint64": case "float64": return 8;
    case "string": return 8; // a reference per element; used only for size estimates
  }
}

/**
 * Attribute values as stored: numeric attributes are arrays (NetCDF attributes are 1-D), 64-bit
 * integers are bigint, text (NC_CHAR) is one string, NC_STRING is an array of strings.
 */
export type AttrValue = string | string[] | number[] | bigint[];

export interface Attribute {
  name: string;
  type: DType;
  value: AttrValue;
}

export interface Dimension {
  name: string;
  size: number;
  unlimited: boolean;
}

export interface Variable {
  name: string;
  /** Absolute path inside the dataset, e.g. "/sst" or "/forecast/sst". */
  path: string;
  dtype: DType;
  dims: string[];
  shape: number[];
  attrs: Attribute[];
  /** The source's own chunk shape (HDF5), or null when stored contiguously. */
  sourceChunks: number[] | null;
  /** Human-readable filter pipeline of the source, e.g. ["shuffle", "deflate(4)"]. */
  filters: string[];
  /** HDF5 sources: the filter pipeline as stored (ids and parameters) and the byte order. */
  hdf5?: { filters: { id: number; cdValues: number[] }[]; littleEndian: boolean };
  /** NetCDF-4 enum: `dtype` is its base integer type; the member names and values, and the type's name. */
  enum?: EnumType;
  /** dtype "compound": its fields, and where they lie in the file's records. */
  compound?: CompoundType;
  /** Set when the variable's type cannot be written to Zarr faithfully: the reason. */
  unsupported?: string;
}

export interface EnumType {
  /** The named type's path in the file (e.g. "/cloud_t"), when it is a committed datatype. */
  name?: string;
  members: Record<string, number | bigint>;
}

/**
 * A NetCDF-4 compound type of numeric scalar fields. Records are held and stored **packed** (fields
 * in order, no padding) and little-endian — the form zarr-python's `structured` type and numpy read
 * — whatever the file's own (aligned, possibly big-endian) layout, which `file` describes.
 */
export interface CompoundType {
  /** The named type's path in the file (e.g. "/obs_t"), when it is a committed datatype. */
  name?: string;
  fields: { name: string; type: FieldType }[];
  /** Bytes of one packed record: the sum of the field sizes. */
  size: number;
  /**
   * The record as the HDF5 reader hands it over: the file's size and field offsets (netCDF-C's
   * aligned layout), and each field's byte order (h5wasm reads a wholly big-endian type as
   * little-endian; a mixed one as stored).
   */
  file: { size: number; offsets: number[]; littleEndian: boolean[] };
}

/**
 * A variable's type as text: its dtype, an enum's base and name ("uint8 enum cloud_t"), or a
 * compound's fields ("compound obs_t {int8 day, int16 elev}").
 */
export function typeText(v: Pick<Variable, "dtype" | "compound" | "enum">): string {
  const short = (path: string | undefined) => (path ? ` ${path.slice(path.lastIndexOf("/") + 1)}` : "");
  if (v.enum) return `${v.dtype} enum${short(v.enum.name)}`;
  if (!v.compound) return v.dtype;
  return `compound${short(v.compound.name)} {${v.compound.fields.map((f) => `${f.type} ${f.name}`).join(", ")}}`;
}

/** Bytes per element of a variable: its type's, or a compound's packed record size. */
export function elementSize(v: Pick<Variable, "dtype" | "compound">): number {
  if (v.dtype === "compound") {
    if (!v.compound) throw new Error("compound variable without its type");
    return v.compound.size;
  }
  return itemSize(v.dtype);
}

export interface Group {
  name: string;
  /** "/" for the root group. */
  path: string;
  attrs: Attribute[];
  dims: Dimension[];
  variables: Variable[];
  groups: Group[];
}

export type SourceFormat =
  | "NETCDF3_CLASSIC" | "NETCDF3_64BIT_OFFSET" | "NETCDF3_64BIT_DATA" | "NETCDF4" | "HDF5";

export interface Dataset {
  format: SourceFormat;
  root: Group;
}

/** The values of a region, C order, native (little-endian) byte order; compound: packed records' bytes. */
export type ArrayData =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array | string[];

/** allocate() for a variable's elements, compound records included (as their bytes). */
export function allocateFor(v: Pick<Variable, "dtype" | "compound">, n: number): ArrayData {
  return v.dtype === "compound" ? new Uint8Array(n * elementSize(v)) : allocate(v.dtype, n);
}

/**
 * The shape of a region's bytes as an array of one-byte elements: compound records get a last axis
 * of their size, so region copies meant for elements (copyOut, copyRegion) move whole records.
 */
export function byteShape(v: Pick<Variable, "dtype" | "compound">, shape: readonly number[]): number[] {
  return v.dtype === "compound" ? [...shape, elementSize(v)] : [...shape];
}

/** Walks every group, depth first, root first. */
export function* walkGroups(g: Group): Generator<Group> {
  yield g;
  for (const c of g.groups) yield* walkGroups(c);
}

export function* walkVariables(g: Group): Generator<Variable> {
  for (const grp of walkGroups(g)) yield* grp.variables;
}

/** A 1-D variable named like its dimension: NetCDF's coordinate variable (time(time), lat(lat)). */
export function isDimensionCoordinate(v: Pick<Variable, "name" | "dims">): boolean {
  return v.dims.length === 1 && v.dims[0] === v.name;
}

export function findVariable(ds: Dataset, path: string): Variable | undefined {
  for (const v of walkVariables(ds.root)) if (v.path === path) return v;
  return undefined;
}

export function getAttr(attrs: readonly Attribute[], name: string): Attribute | undefined {
  return attrs.find((a) => a.name === name);
}

/** A text (NC_CHAR) attribute's value, or undefined when absent or not text. */
export function textAttr(attrs: readonly Attribute[], name: string): string | undefined {
  const a = getAttr(attrs, name);
  return a && typeof a.value === "string" ? a.value : undefined;
}

/** The smallest and largest value of each integer type. */
export const INTEGER_RANGES: Partial<Record<DType, [bigint, bigint]>> = {
  int8: [-(2n ** 7n), 2n ** 7n - 1n], uint8: [0n, 2n ** 8n - 1n], int16: [-(2n ** 15n), 2n ** 15n - 1n],
  uint16: [0n, 2n ** 16n - 1n], int32: [-(2n ** 31n), 2n ** 31n - 1n], uint32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/**
 * Allocates an empty array of the right kind for `n` elements of `dtype`; compound records (use
 * allocateFor) are a Uint8Array of n × record size bytes.
 */
export function allocate(dtype: DType, n: number): ArrayData {
  switch (dtype) {
    case "compound": throw new Error("compound records are as long as their variable's: use allocateFor()");
    case "int8": return new Int8Array(n);
    case "uint8": case "char": return new Uint8Array(n);
    case "int16": return new Int16Array(n);
    case "uint16": return new Uint16Array(n);
    case "int32": return new Int32Array(n);
    case "uint32": return new Uint32Array(n);
    case "int64": return new BigInt64Array(n);
    case "uint64": return new BigUint64Array(n);
    case "float32": return new Float32Array(n);
    case "float64": return new Float64Array(n);
    case "string": return new Array<string>(n).fill("");
  }
}
