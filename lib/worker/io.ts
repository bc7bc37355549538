/**
 * How a worker reaches storage, decided by the main thread and sent with each task as plain data
 * (no credentials: workers take those from their own environment or role, as the SDK does).
 */
import { remoteMode, setRemoteMode, type RemoteMode } from "../io/open.js";
import { activeS3Settings, useS3Settings, type S3Settings } from "../store/s3-config.js";

export interface WorkerIo {
  s3?: S3Settings;
  remoteMode: RemoteMode;
}

export function workerIo(): WorkerIo {
  const s3 = activeS3Settings();
  return { ...(s3 && { s3 }), remoteMode: remoteMode() };
}

export function applyWorkerIo(io: WorkerIo): void {
  if (io.s3) useS3Settings(io.s3);
  setRemoteMode(io.remoteMode);
}
