import { ConvertError } from "../errors.js";
import type { Executor, ExecutorName } from "./types.js";

/** Executors by name, each imported only when used. */
const REGISTRY: Record<ExecutorName, () => Promise<Executor>> = {
  inline: async () => new (await import("./inline.js")).InlineExecutor(),
  threads: async () => new (await import("./pool.js")).PoolExecutor("threads"),
  process: async () => new (await import("./pool.js")).PoolExecutor("process"),
};

export const EXECUTOR_NAMES = Object.keys(REGISTRY) as ExecutorName[];

export async function createExecutor(name: string): Promise<Executor> {
  const make = REGISTRY[name as ExecutorName];
  if (!make) throw new ConvertError("Usage", `unknown executor ${name} (choose ${EXECUTOR_NAMES.join(", ")})`);
  return make();
}
