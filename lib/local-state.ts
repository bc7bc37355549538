/**
 * State files of the local endpoints (`s3-local`, `ecs-local`): a JSON document with the endpoint's pid,
 * written while it runs, so other commands find it; a file whose process is gone is stale.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** `override` when set, else $XDG_STATE_HOME (or ~/.local/state)/convert-to-zarr/<name>.json. */
export function stateFilePath(name: string, override: string | undefined, env: NodeJS.ProcessEnv): string {
  if (override) return override;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "convert-to-zarr", `${name}.json`);
}

/** The file's state if its process still runs; undefined when missing, unreadable or stale. */
export function readLiveState<T extends { pid: number }>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as T;
    process.kill(s.pid, 0); // throws when that process is gone: a stale file
    return s;
  } catch {
    return undefined;
  }
}

/** Writes the state; returns what removes it again. */
export function writeState<T extends { pid: number }>(file: string, state: T): () => void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(state));
  return () => rmSync(file, { force: true });
}
