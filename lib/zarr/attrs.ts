/** Attribute values as Zarr JSON: what xarray reads back as the same attribute. */
import type { Attribute, AttrValue, DType } from "../model.js";

/**
 * A float that must stay a float in JSON: JavaScript prints 1e20 or 0.0 as integers, which
 * Python then reads back as int. encodeJson writes it with a decimal point.
 */
export class JsonFloat {
  constructor(readonly value: number) {}
}

export type JsonScalar = string | number | bigint | boolean | null | JsonFloat;
export type JsonAttr = JsonScalar | JsonScalar[];

/**
 * One attribute as JSON: length-1 arrays unwrap to scalars, as netCDF4-python and xarray do.
 * float32 values are written exactly (0.01f as 0.009999999776482582), as xarray's to_zarr does:
 * a shortened 1e20 would no longer equal a float32 fill value of 1e20f.
 */
export function attrToJson(type: DType, value: AttrValue): JsonAttr {
  if (typeof value === "string") return value;
  const isFloat = type === "float32" || type === "float64";
  const items = (value as (string | number | bigint)[]).map((x) =>
    isFloat && typeof x === "number" && Number.isInteger(x) ? new JsonFloat(x) : x,
  );
  return items.length === 1 ? items[0]! : items;
}

export function attrsToJson(attrs: readonly Attribute[], skip: ReadonlySet<string> = new Set()): Record<string, JsonAttr> {
  const out: Record<string, JsonAttr> = {};
  for (const a of attrs) if (!skip.has(a.name)) out[a.name] = attrToJson(a.type, a.value);
  return out;
}
