/**
 * Errors are values with names: every failure a user can cause is a ConvertError with a tag,
 * so the CLI can print one clean line (never a stack trace or h5wasm's minified source).
 */
export type ErrorTag =
  | "NotFound" // input missing
  | "Unreadable" // permissions, I/O
  | "NotNetCDF" // magic bytes are neither NetCDF-3 nor HDF5
  | "Corrupt" // header or data inconsistent, truncated
  | "Unsupported" // a type or feature Zarr cannot hold faithfully
  | "Mismatch" // files of one collection disagree
  | "OutputExists" // refusing to overwrite
  | "Incomplete" // a store still marked in progress
  | "VerifyFailed" // verify found a difference
  | "Remote" // object storage failed after its retries (throttling, 5xx, resets)
  | "Pool" // the worker pool failed: workers could not start, or died more often than tasks may be retried
  | "Usage"; // bad options

export class ConvertError extends Error {
  readonly _tag: ErrorTag;
  /** The file or store the problem is about, when there is one. */
  readonly path: string | undefined;
  constructor(tag: ErrorTag, message: string, path?: string, options?: { cause?: unknown }) {
    super(message, options);
    this._tag = tag;
    this.path = path;
    this.name = "ConvertError";
  }
}

export function isConvertError(err: unknown, tag?: ErrorTag): err is ConvertError {
  return err instanceof ConvertError && (tag === undefined || err._tag === tag);
}

/** First line of any error, capped, so a 4 MB minified source line can never reach a user. */
export function oneLine(err: unknown, max = 300): string {
  const text = err instanceof Error ? err.message : String(err);
  const first = text.split("\n").find((l) => l.trim() !== "") ?? text;
  const line = first.trim();
  return line.length > max ? line.slice(0, max) + "…" : line;
}

/** The single line the CLI prints: "path: problem". */
export function describeError(err: unknown): string {
  if (isConvertError(err)) return err.path ? `${err.path}: ${oneLine(err)}` : oneLine(err);
  return `internal error: ${oneLine(err)}`;
}
