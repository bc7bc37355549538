/** Attribute values as Zarr JSON: what xarray reads back as the same attribute. */
import type { Attribute, AttrValue } from "../model.js";

export type JsonScalar = string | number | bigint | boolean | null;
export type JsonAttr = JsonScalar | JsonScalar[];

/**
 * One attribute as JSON: length-1 arrays unwrap to scalars, as netCDF4-python and xarray do.
 * float32 values are written exactly (0.01f as 0.009999999776482582), as xarray's to_zarr does:
 * a shortened 1e20 would no longer equal a float32 fill value of 1e20f.
 */
export function attrToJson(value: AttrValue): JsonAttr {
  if (typeof value === "string") return value;
  const items = value as (string | number | bigint)[];
  return items.length === 1 ? items[0]! : items;
}

export function attrsToJson(attrs: readonly Attribute[], skip: ReadonlySet<string> = new Set()): Record<string, JsonAttr> {
  const out: Record<string, JsonAttr> = {};
  for (const a of attrs) if (!skip.has(a.name)) out[a.name] = attrToJson(a.value);
  return out;
}
