/**
 * Progress on stderr: a bar (cli-progress) on a terminal, otherwise a plain line at most every
 * few seconds, so logs stay readable and quick runs print nothing extra.
 */
import type { ConvertProgress } from "../convert.js";
import { formatBytes } from "../format.js";

const PLAIN_EVERY_MS = 5000;

function eta(s: number | null): string {
  if (s === null || !Number.isFinite(s)) return "--";
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.round(s)}s`;
}

export function line(p: ConvertProgress): string {
  const pct = p.bytesReadTotal > 0 ? Math.min(100, (100 * p.bytesRead) / p.bytesReadTotal) : 100 * (p.tasksDone / Math.max(1, p.tasksTotal));
  return `${pct.toFixed(0).padStart(3)}% | ${p.tasksDone}/${p.tasksTotal} tasks, ${p.chunksDone}/${p.chunksTotal} chunks | ` +
    `${formatBytes(p.throughput)}/s | ETA ${eta(p.etaSeconds)}`;
}

export interface ProgressView {
  update(p: ConvertProgress): void;
  /** A line of news (an executor event), printed above the bar. */
  note(text: string): void;
  stop(): void;
}

export async function progressView(stream: NodeJS.WriteStream = process.stderr): Promise<ProgressView> {
  if (!stream.isTTY) {
    let last = Date.now();
    return {
      update(p) {
        if (Date.now() - last >= PLAIN_EVERY_MS) {
          last = Date.now();
          stream.write(`convert-to-zarr: ${line(p)}\n`);
        }
      },
      note: (text) => void stream.write(`convert-to-zarr: ${text}\n`),
      stop() {},
    };
  }
  const { SingleBar, Presets } = (await import("cli-progress")).default;
  const bar = new SingleBar({ stream, format: "{bar} {text}", hideCursor: true, clearOnComplete: true }, Presets.shades_classic);
  let started = false;
  return {
    update(p) {
      const total = Math.max(1, p.bytesReadTotal), value = Math.min(total, p.bytesRead);
      if (!started) {
        bar.start(total, value, { text: line(p) });
        started = true;
      } else bar.update(value, { text: line(p) });
    },
    note(text) {
      // Clear the bar's line, print, and let the bar draw itself again below.
      stream.write(`\r\x1b[K${text}\n`);
      if (started) bar.render();
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
