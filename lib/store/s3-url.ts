/** s3://bucket/prefix URLs and the keys below them, refusing anything that would escape the prefix. */
import { ConvertError } from "../errors.js";

export interface S3Location {
  bucket: string;
  /** Without leading or trailing "/"; "" for the bucket's root. */
  prefix: string;
}

export const isS3Url = (s: string): boolean => /^s3:\/\//i.test(s);

// S3's bucket naming rules (general purpose buckets), checked so a typo fails here, not as a 403.
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseS3Url(url: string): S3Location {
  if (!isS3Url(url)) throw new ConvertError("Usage", "not an s3:// URL", url);
  const rest = url.slice(5);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket) || bucket.includes("..")) throw new ConvertError("Usage", `invalid bucket name "${bucket}"`, url);
  const path = slash < 0 ? "" : rest.slice(slash + 1);
  const parts = path.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) throw new ConvertError("Usage", "URL path has . or .. segments", url);
  return { bucket, prefix: parts.join("/") };
}

/** The object key of `key` ("/a/b") below `prefix`; refuses keys that would leave the prefix. */
export function objectKey(prefix: string, key: string, url: string): string {
  const parts = key.split("/").filter((p) => p !== "");
  if (parts.some((p) => p === "." || p === "..")) throw new ConvertError("Usage", `store key ${key} escapes the store`, url);
  return [prefix, ...parts].filter((p) => p !== "").join("/");
}

export const s3Url = (loc: S3Location, key = ""): string =>
  `s3://${loc.bucket}/${[loc.prefix, key].filter((p) => p !== "").join("/")}`;
