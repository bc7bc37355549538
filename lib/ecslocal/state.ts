/**
 * Where `convert-to-zarr ecs-local` records its endpoint while it runs, so `--executor ecs` finds it
 * the way S3 commands find `s3-local` (lib/store/s3-config.ts).
 */
import { readLiveState, stateFilePath, writeState } from "../local-state.js";

/** The one task definition `ecs-local` serves: the worker's container. */
export const LOCAL_TASK_DEFINITION = "convert-to-zarr-worker";

export interface LocalEcsState {
  endpoint: string;
  cluster: string;
  taskDefinition: string;
  pid: number;
}

export function localEcsStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return stateFilePath("ecs-local", env.CONVERT_TO_ZARR_ECS_LOCAL_STATE, env);
}

/** The running local ECS endpoint, or undefined (no file, or its process is gone). */
export function readLocalEcsState(env: NodeJS.ProcessEnv = process.env): LocalEcsState | undefined {
  return readLiveState<LocalEcsState>(localEcsStateFile(env));
}

export function writeLocalEcsState(s: LocalEcsState, env: NodeJS.ProcessEnv = process.env): () => void {
  return writeState(localEcsStateFile(env), s);
}
