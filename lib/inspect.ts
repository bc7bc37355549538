/** An `ncdump -hs`-like summary of a file or collection: structure, chunking, filters, sizes. */
import { expandInputs } from "./io/inputs.js";
import { openCollection, type CollectionOptions } from "./collection.js";
import { formatBytes } from "./format.js";
import { typeText, elementSize, product, walkGroups, type Attribute, type Dataset, type Group } from "./model.js";

export interface InspectResult {
  inputs: string[];
  format: string;
  concatDim: string | null;
  dataset: Dataset;
  /** Uncompressed bytes of all variables. */
  bytes: number;
}

export async function inspect(inputs: string[], opts: CollectionOptions = {}): Promise<InspectResult> {
  const c = await openCollection(await expandInputs(inputs), opts);
  try {
    let bytes = 0;
    for (const g of walkGroups(c.dataset.root)) for (const v of g.variables) bytes += product(v.shape) * elementSize(v);
    return { inputs: c.files.map((f) => f.path), format: c.dataset.format, concatDim: c.concatDim ?? null, dataset: c.dataset, bytes };
  } finally {
    c.close();
  }
}

function attrText(a: Attribute): string {
  if (typeof a.value === "string") return JSON.stringify(a.value.length > 200 ? a.value.slice(0, 200) + "…" : a.value);
  return (a.value as unknown[]).map((x) => (typeof x === "string" ? JSON.stringify(x) : String(x))).join(", ");
}

/** Text in the spirit of `ncdump -hs`, with sizes. */
export function formatInspect(r: InspectResult): string {
  const lines: string[] = [];
  const files = r.inputs.length === 1 ? r.inputs[0] : `${r.inputs.length} files concatenated along ${r.concatDim}`;
  lines.push(`${files}  (${r.format}, ${formatBytes(r.bytes)} uncompressed)`);
  const group = (g: Group, ind: string) => {
    if (g.path !== "/") lines.push(`${ind}group: ${g.name} {`);
    const i2 = g.path === "/" ? ind : ind + "  ";
    if (g.dims.length) {
      lines.push(`${i2}dimensions:`);
      for (const d of g.dims) lines.push(`${i2}  ${d.name} = ${d.unlimited ? `UNLIMITED ; // (${d.size} currently)` : `${d.size} ;`}`);
    }
    if (g.variables.length) lines.push(`${i2}variables:`);
    for (const v of g.variables) {
      const size = formatBytes(product(v.shape) * elementSize(v));
      lines.push(`${i2}  ${typeText(v)} ${v.name}(${v.dims.join(", ")}) ;  // ${size}${v.unsupported ? `, UNSUPPORTED: ${v.unsupported}` : ""}`);
      lines.push(`${i2}    ${v.name}:_Storage = ${v.sourceChunks ? `"chunked" ; ${v.name}:_ChunkSizes = ${v.sourceChunks.join(", ")}` : `"contiguous"`} ;`);
      if (v.filters.length) lines.push(`${i2}    ${v.name}:_Filters = "${v.filters.join(", ")}" ;`);
      for (const a of v.attrs) lines.push(`${i2}    ${v.name}:${a.name} = ${attrText(a)} ;`);
    }
    if (g.attrs.length) {
      lines.push(`${i2}// ${g.path === "/" ? "global" : "group"} attributes:`);
      for (const a of g.attrs) lines.push(`${i2}    :${a.name} = ${attrText(a)} ;`);
    }
    for (const c of g.groups) group(c, i2);
    if (g.path !== "/") lines.push(`${ind}}`);
  };
  group(r.dataset.root, "");
  return lines.join("\n");
}
