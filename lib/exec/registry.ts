import { ConvertError } from "../errors.js";
import type { EcsSettings } from "./ecs/config.js";
import type { Executor, ExecutorName } from "./types.js";

export interface ExecutorSettings {
  /** The ECS worker pool, over what the deployed stack publishes. */
  ecs?: Partial<EcsSettings>;
}

/** Executors by name, each imported only when used. */
const REGISTRY: Record<ExecutorName, (o: ExecutorSettings) => Promise<Executor>> = {
  inline: async () => new (await import("./inline.js")).InlineExecutor(),
  threads: async () => new (await import("./pool.js")).PoolExecutor("threads"),
  process: async () => new (await import("./pool.js")).PoolExecutor("process"),
  ecs: async (o) => new (await import("./ecs/executor.js")).EcsExecutor(o.ecs),
};

export const EXECUTOR_NAMES = Object.keys(REGISTRY) as ExecutorName[];

export async function createExecutor(name: string, settings: ExecutorSettings = {}): Promise<Executor> {
  const make = REGISTRY[name as ExecutorName];
  if (!make) throw new ConvertError("Usage", `unknown executor ${name} (choose ${EXECUTOR_NAMES.join(", ")})`);
  return make(settings);
}
