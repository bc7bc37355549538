import { isS3Url } from "../store/s3-url.js";
import { FileByteSource, type ByteSource } from "./byte-source.js";
import { DownloadedByteSource, RemoteByteSource } from "./remote.js";

/** How remote inputs are read: by ranges as needed (default), or downloaded whole to a temporary file. */
export type RemoteMode = "ranged" | "download";

let defaultMode: RemoteMode = "ranged";
export const setRemoteMode = (m: RemoteMode): void => void (defaultMode = m);
export const remoteMode = (): RemoteMode => defaultMode;

/** A path or an s3:// URL, opened for synchronous reads. */
export function openByteSource(url: string, mode: RemoteMode = defaultMode): ByteSource {
  if (!isS3Url(url)) return new FileByteSource(url);
  return mode === "download" ? new DownloadedByteSource(url) : new RemoteByteSource(url);
}
