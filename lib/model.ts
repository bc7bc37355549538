/**
 * The in-memory picture of a NetCDF dataset: groups, dimensions, variables and attributes, with
 * everything kept exactly as stored (no CF decoding). Sources fill it; the Zarr writer reads it.
 */

/** Element types a variable or attribute can have. `char` is NetCDF's NC_CHAR (one byte). */
export type DType =
  | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64"
  | "float32" | "float64" | "char" | "string";

export function itemSize(d: DType): number {
  switch (d) {
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
  /** Set when the variable's type cannot be written to Zarr faithfully: the reason. */
  unsupported?: string;
}

export interface EnumType {
  /** The named type's path in the file (e.g. "/cloud_t"), when it is a committed datatype. */
  name?: string;
  members: Record<string, number | bigint>;
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

/** The values of a region, C order, native (little-endian) byte order. */
export type ArrayData =
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array | Float32Array | Float64Array | string[];

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

export function product(xs: readonly number[]): number {
  let p = 1;
  for (const x of xs) p *= x;
  return p;
}

/** Allocates an empty array of the right kind for `n` elements of `dtype`. */
export function allocate(dtype: DType, n: number): ArrayData {
  switch (dtype) {
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
