/**
 * Where `convert-to-zarr ecs-local` records its endpoint while it runs, so `--executor ecs` finds it
 * the way S3 commands find `s3-local` (lib/store/s3-config.ts).
 */
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** The one task definition `ecs-local` serves: the worker's container. */
export const LOCAL_TASK_DEFINITION = "convert-to-zarr-worker";

export interface LocalEcsState {
  endpoint: string;
  cluster: string;
  taskDefinition: string;
  pid: number;
}

export function localEcsStateFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONVERT_TO_ZARR_ECS_LOCAL_STATE) return env.CONVERT_TO_ZARR_ECS_LOCAL_STATE;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "convert-to-zarr", "ecs-local.json");
}

/** The running local ECS endpoint, or undefined (no file, or its process is gone). */
export function readLocalEcsState(env: NodeJS.ProcessEnv = process.env): LocalEcsState | undefined {
  const file = localEcsStateFile(env);
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as LocalEcsState;
    process.kill(s.pid, 0);
    return s;
  } catch {
    return undefined;
  }
}

export function writeLocalEcsState(s: LocalEcsState, env: NodeJS.ProcessEnv = process.env): () => void {
  const file = localEcsStateFile(env);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(s));
  return () => rmSync(file, { force: true });
}
