import { resolve } from "node:path";
import { FsStore } from "./fs.js";
import type { RequestMetrics } from "./metrics.js";
import { S3Store } from "./s3.js";
import type { S3Settings } from "./s3-config.js";
import { isS3Url } from "./s3-url.js";
import type { Store } from "./types.js";

/** The store at a path or s3:// URL. */
export function openStore(url: string, opts: { settings?: S3Settings; metrics?: RequestMetrics } = {}): Store {
  return isS3Url(url) ? new S3Store(url, opts) : new FsStore(url);
}

/** An input or output location in the form recorded in job records: absolute paths, URLs as given. */
export const normalizeLocation = (where: string): string => (isS3Url(where) ? where.replace(/\/+$/, "") : resolve(where));
