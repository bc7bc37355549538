/**
 * Writes the metadata documents of a store in the order that keeps a half-written store from ever
 * looking complete: a marker first, then non-root metadata, (chunks), then the root group and
 * consolidated metadata last. Our reader and `verify` refuse a store that still has the marker.
 */
import type { Store, StoreKey } from "../store/types.js";
import type { Group } from "../model.js";
import { attrsToJson } from "./attrs.js";
import { v2ArrayDocs, v3ArrayDoc, type ArrayEncoding, type ZarrFormat } from "./encoding.js";
import { jsonBytes } from "./json.js";

export const IN_PROGRESS_KEY: StoreKey = "/.convert-to-zarr-in-progress";

/** Relative store path of a group or variable path: "/" → "", "/a/b" → "a/b". */
export const storePath = (p: string) => p.replace(/^\/+/, "");

export class MetadataWriter {
  /** Every document written, for consolidated metadata: relative key → document. */
  private readonly docs = new Map<string, Record<string, unknown>>();
  constructor(private store: Store, private format: ZarrFormat) {}

  private async put(key: string, doc: Record<string, unknown>, consolidate = true) {
    // NaN and ±Infinity attributes as zarr-python writes them, bare tokens (in v2 .zattrs and in v3
    // zarr.json attributes), which it and xarray read back as floats ("NaN" strings stay strings
    // there). fill_value is already the string the specs define (fillValueJson). zarrita's
    // JSON.parse rejects the tokens: we read through zarritaView.
    const nonFinite = this.format === 2 && !key.endsWith(".zattrs") ? "string" : "token";
    await this.store.set(`/${key}` as StoreKey, jsonBytes(doc, nonFinite));
    if (consolidate) this.docs.set(key, doc);
  }

  async markInProgress(info: Record<string, unknown>) {
    await this.store.set(IN_PROGRESS_KEY, jsonBytes({ ...info, started: new Date().toISOString(), pid: process.pid }));
  }

  async group(g: Group) {
    if (g.path === "/") return; // the root goes last, in finish()
    await this.groupDocs(storePath(g.path), attrsToJson(g.attrs));
  }

  /** Writes a metadata document as it is (append: the store's own documents, shapes updated). */
  async raw(key: string, doc: Record<string, unknown>) {
    await this.put(key, doc);
  }

  private async groupDocs(rel: string, attrs: Record<string, unknown>) {
    const prefix = rel ? `${rel}/` : "";
    if (this.format === 2) {
      await this.put(`${prefix}.zattrs`, attrs);
      await this.put(`${prefix}.zgroup`, { zarr_format: 2 });
    } else if (rel) {
      await this.put(`${rel}/zarr.json`, { zarr_format: 3, node_type: "group", attributes: attrs });
    }
  }

  async array(e: ArrayEncoding) {
    if (this.format === 2) {
      const { zarray, zattrs } = v2ArrayDocs(e);
      await this.put(`${e.key}/.zarray`, zarray);
      await this.put(`${e.key}/.zattrs`, zattrs);
    } else {
      await this.put(`${e.key}/zarr.json`, v3ArrayDoc(e));
    }
  }

  /** Root group and consolidated metadata, last (the caller then removes its state and the marker). */
  async finish(rootAttrs: Record<string, unknown>) {
    await this.groupDocs("", rootAttrs);
    if (this.format === 2) {
      const metadata = Object.fromEntries([...this.docs].sort(([a], [b]) => a.localeCompare(b)));
      // .zmetadata embeds .zattrs documents: keep zarr-python 2's bare NaN there too.
      await this.store.set("/.zmetadata", jsonBytes({ zarr_consolidated_format: 1, metadata }, "token"));
    } else {
      const metadata = Object.fromEntries(
        [...this.docs].map(([k, d]) => [k.replace(/\/zarr\.json$/, ""), d] as const).sort(([a], [b]) => a.localeCompare(b)),
      );
      await this.put("zarr.json", {
        zarr_format: 3, node_type: "group", attributes: rootAttrs,
        consolidated_metadata: { kind: "inline", must_understand: false, metadata },
      }, false);
    }
  }
}
