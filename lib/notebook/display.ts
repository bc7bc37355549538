/**
 * Rich output in the tslab kernel: plotly charts that render in JupyterLab, the classic notebook and an
 * nbconvert HTML export (plotly.js inlined once by plotlyInit, no CDN), progress bars that update in
 * place, tables and preformatted text. Multi-MIME bundles go through tslab's internal writer (its
 * public display API takes one MIME type per output, and nbconvert drops plotly-only outputs), which
 * is why tslab is pinned (FIELD-NOTES §6.5). Outside a kernel every function throws.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { ConvertProgress } from "../convert.js";
import type { Figure } from "./charts.js";

type Bundle = Record<string, unknown>;
type Writer = (c: { data: Bundle; metadata: Bundle; transient: Bundle }, update: boolean) => void;

const require = createRequire(import.meta.url);

function writer(): Writer {
  const suffix = join("tslab", "dist", "jupyter.js");
  // Two copies of jupyter.js can be loaded; the live one has the writer set for the running cell.
  const live = Object.keys(require.cache).filter((k) => k.endsWith(suffix))
    .map((k) => require.cache[k]!.exports as { lastWriteDisplayData?: Writer })
    .find((j) => j?.lastWriteDisplayData);
  if (!live?.lastWriteDisplayData) throw new Error("not running inside a tslab kernel");
  return live.lastWriteDisplayData;
}

export const inKernel = (): boolean => {
  try {
    writer();
    return true;
  } catch {
    return false;
  }
};

export function displayBundle(data: Bundle, o: { displayId?: string; update?: boolean } = {}): void {
  writer()({ data, metadata: {}, transient: o.displayId ? { display_id: o.displayId } : {} }, !!o.update);
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** Inlines plotly.js (scatter and bar build, 1.2 MB) once, so charts draw offline and in HTML exports. */
export function plotlyInit(): void {
  const file = require.resolve("plotly.js-basic-dist-min/plotly-basic.min.js");
  const js = readFileSync(file, "utf8").replace(/<\/script/gi, "<\\/script");
  displayBundle({ "text/html": `<script type="text/javascript">if (!window.Plotly) {\n${js}\n}</script>`, "text/plain": "plotly.js loaded" });
}

/** One chart: plotly JSON for native renderers, HTML + script for the rest, text for the terminal. */
export function plot(fig: Figure, o: { height?: number } = {}): void {
  const id = "plt-" + randomBytes(6).toString("hex"), h = o.height ?? 420;
  const spec = { data: fig.data, layout: { height: h, ...fig.layout }, config: { responsive: true } };
  const json = JSON.stringify(spec).replace(/</g, "\\u003c");
  const html = `<div id="${id}" class="c2z-plot" style="width:100%;height:${h}px"></div><script type="text/javascript">(function(){
var spec=${json}; function draw(){ window.Plotly.newPlot("${id}", spec.data, spec.layout, spec.config); }
if (window.Plotly) { draw(); return; }
var n=0, t=setInterval(function(){ if (window.Plotly){clearInterval(t);draw();} else if(++n>100){clearInterval(t);
document.getElementById("${id}").textContent="plotly.js not loaded - run plotlyInit() first";} },100);})();</script>`;
  const title = (fig.layout["title"] as { text?: string } | undefined)?.text ?? "";
  displayBundle({ "application/vnd.plotly.v1+json": spec, "text/html": html, "text/plain": `<plotly figure: ${fig.data.length} trace(s)${title ? `: ${title}` : ""}>` });
}

export function table(rows: readonly (readonly unknown[])[], head: readonly string[]): void {
  const cell = (v: unknown, tag: string) => `<${tag} style="text-align:${typeof v === "number" ? "right" : "left"}">${escapeHtml(String(v))}</${tag}>`;
  const html = `<table><thead><tr>${head.map((h) => cell(h, "th")).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((v) => cell(v, "td")).join("")}</tr>`).join("")}</tbody></table>`;
  const text = [head.join("\t"), ...rows.map((r) => r.map(String).join("\t"))].join("\n");
  displayBundle({ "text/html": html, "text/plain": text });
}

export function pre(text: string): void {
  displayBundle({ "text/html": `<pre>${escapeHtml(text)}</pre>`, "text/plain": text });
}

/** A progress bar that updates in place; feed it convert()'s onProgress events. */
export function progressBar(label: string): { update(p: ConvertProgress): void } {
  const displayId = "prog-" + randomBytes(6).toString("hex");
  const render = (done: number, total: number, extra: string) => ({
    "text/html": `<div class="c2z-progress"><progress value="${done}" max="${Math.max(total, 1)}" style="width:60%"></progress> ${escapeHtml(label)} ${done}/${total} ${escapeHtml(extra)}</div>`,
    "text/plain": `${label} ${done}/${total} ${extra}`,
  });
  displayBundle(render(0, 0, "starting"), { displayId });
  return {
    update(p) {
      const mb = (p.bytesWritten / 2 ** 20).toFixed(1);
      displayBundle(render(p.tasksDone, p.tasksTotal, `tasks, ${p.chunksDone}/${p.chunksTotal} chunks, ${mb} MiB written`), { displayId, update: true });
    },
  };
}
