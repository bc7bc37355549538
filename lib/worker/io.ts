/**
 * How a worker reaches storage, decided by the main thread and sent with each task as plain data
 * (no credentials: workers take those from their own environment or role, as the SDK does): the
 * output's S3 settings, the inputs' (anonymous, Requester Pays) and how remote inputs are read.
 */
import { remoteMode, setRemoteMode, type RemoteMode } from "../io/open.js";
import {
  activeInputS3Settings, activeS3Settings, currentInputAccess, setInputAccess, useInputS3Settings, useS3Settings,
  type InputAccess, type S3Settings,
} from "../store/s3-config.js";

export interface WorkerIo {
  s3?: S3Settings;
  /** The inputs' settings when the main thread has resolved them already. */
  s3In?: S3Settings;
  /** Else how to resolve them (the CLI's --no-sign-request / --request-payer). */
  inputAccess?: InputAccess;
  remoteMode: RemoteMode;
}

export function workerIo(): WorkerIo {
  const s3 = activeS3Settings(), s3In = activeInputS3Settings(), access = currentInputAccess();
  return { ...(s3 && { s3 }), ...(s3In && { s3In }), ...(Object.keys(access).length > 0 && { inputAccess: access }), remoteMode: remoteMode() };
}

export function applyWorkerIo(io: WorkerIo): void {
  if (io.s3) useS3Settings(io.s3);
  if (io.inputAccess) setInputAccess(io.inputAccess);
  if (io.s3In) useInputS3Settings(io.s3In);
  setRemoteMode(io.remoteMode);
}
