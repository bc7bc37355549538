/**
 * Where the ECS worker pool is and how big its workers are. The deployed stack publishes one JSON
 * document (StackConfig) in two places: the notebook instance's ~/SageMaker/.convert-to-zarr/stack.json
 * (written by kernel/sagemaker/on-start.sh) and an SSM parameter, /convert-to-zarr/<stack name>, for
 * use from anywhere else with credentials. Nobody copies IDs by hand.
 * Order: explicit options, then CONVERT_TO_ZARR_ECS (JSON, or a path to a JSON file), then the stack
 * config file, then the SSM parameter, then the local ECS endpoint while `convert-to-zarr ecs-local` runs.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import type { z } from "zod";
import { ConvertError } from "../../errors.js";
import { hasAwsCredentials } from "../../store/s3-config.js";
import { readLocalEcsState } from "../../ecslocal/state.js";

export const DEFAULT_STACK_NAME = "ConvertToZarr";
export const stackParameterName = (stack = DEFAULT_STACK_NAME) => `/convert-to-zarr/${stack}`;

// zod loads lazily (~50 ms of every start otherwise): only a stack config is ever validated with it.
function stackConfigSchema() {
  const { z } = createRequire(import.meta.url)("zod") as typeof import("zod");
  return z.object({
    bucket: z.string().min(1),
    region: z.string().min(1).optional(),
    stackName: z.string().min(1).optional(),
    cluster: z.string().min(1).optional(),
    taskDefinition: z.string().min(1).optional(),
    containerName: z.string().min(1).optional(),
    subnets: z.array(z.string().min(1)).optional(),
    securityGroups: z.array(z.string().min(1)).optional(),
    /** The worker's size and kind, for the cost estimate. */
    vcpu: z.number().positive().optional(),
    memoryGiB: z.number().positive().optional(),
    architecture: z.enum(["X86_64", "ARM64"]).optional(),
    spot: z.boolean().optional(),
    maxWorkers: z.number().int().positive().optional(),
    pricing: z.object({ vcpuHour: z.number().positive(), gbHour: z.number().positive(), source: z.string().optional() }).optional(),
    workerTimeoutS: z.number().positive().optional(),
    logGroup: z.string().min(1).optional(),
    dashboard: z.string().min(1).optional(),
  });
}
let schema: ReturnType<typeof stackConfigSchema> | undefined;

/** What the deployed stack tells its users. */
export type StackConfig = z.infer<ReturnType<typeof stackConfigSchema>>;

/** The first problem of a parse as "field: message", for one-line errors. */
function firstIssue(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `${i.path.join(".") || "value"}: ${i.message}`;
}

export function parseStackConfig(text: string, where: string): StackConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConvertError("Usage", `not valid JSON: ${(e as Error).message}`, where);
  }
  const r = (schema ??= stackConfigSchema()).safeParse(raw);
  if (!r.success) {
    const missingBucket = r.error.issues.some((i) => i.path[0] === "bucket");
    throw new ConvertError("Usage", missingBucket ? "stack config has no bucket" : `stack config: ${firstIssue(r.error)}`, where);
  }
  return r.data;
}

/** The stack's config file: CONVERT_TO_ZARR_STACK_CONFIG, else ~/SageMaker/.convert-to-zarr/stack.json. */
export function readStackConfig(env: NodeJS.ProcessEnv = process.env): StackConfig | undefined {
  const file = env.CONVERT_TO_ZARR_STACK_CONFIG || join(env.HOME || homedir(), "SageMaker", ".convert-to-zarr", "stack.json");
  if (!existsSync(file)) return undefined;
  return parseStackConfig(readFileSync(file, "utf8"), file);
}

/** The stack's SSM parameter (CONVERT_TO_ZARR_STACK names the stack), or undefined when there is none. */
export async function fetchStackConfig(env: NodeJS.ProcessEnv = process.env): Promise<StackConfig | undefined> {
  const name = stackParameterName(env.CONVERT_TO_ZARR_STACK || DEFAULT_STACK_NAME);
  const { SSMClient, GetParameterCommand, ParameterNotFound } = await import("@aws-sdk/client-ssm");
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const ssm = new SSMClient({ ...(region && { region }) });
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }));
    return out.Parameter?.Value ? parseStackConfig(out.Parameter.Value, `ssm:${name}`) : undefined;
  } catch (e) {
    if (e instanceof ParameterNotFound) return undefined;
    if (e instanceof ConvertError) throw e;
    throw new ConvertError("Usage", `cannot read the stack's configuration: ${(e as Error).message}`, `ssm:${name}`);
  } finally {
    ssm.destroy();
  }
}

/** Everything the ECS executor needs. */
export interface EcsSettings {
  cluster: string;
  /** Family, family:revision or ARN. */
  taskDefinition: string;
  containerName: string;
  subnets: string[];
  securityGroups: string[];
  region?: string;
  /** The ECS API endpoint; undefined: AWS's own (AWS_ENDPOINT_URL_ECS is honoured). */
  endpoint?: string;
  vcpu: number;
  memoryGiB: number;
  architecture: "X86_64" | "ARM64";
  spot: boolean;
  /** Workers started at most (a cost cap; default 16). */
  maxWorkers: number;
  /** A worker stops taking tasks near this, exits at it, and is stopped by the client soon after. */
  workerTimeoutS: number;
  /** How often status objects are listed, and workers described (DescribeTasks). */
  pollSeconds: number;
  livenessSeconds: number;
  /** The workers' CloudWatch log group (the stack's), named in error messages. */
  logGroup?: string;
  /** Fargate prices of the pool's region and platform, for the cost estimate (default: us-east-1 list prices). */
  pricing?: { vcpuHour: number; gbHour: number; source?: string };
  /** How this was found, for messages. */
  source: string;
}

/** A pool's settings when nothing says otherwise; the CDK stack's worker defaults come from here too. */
export const ECS_DEFAULTS = {
  containerName: "worker", vcpu: 2, memoryGiB: 4, architecture: "X86_64", spot: false, maxWorkers: 16,
  workerTimeoutS: 3600, pollSeconds: 2, livenessSeconds: 15, subnets: [], securityGroups: [],
} as const;

function fromEnvVariable(env: NodeJS.ProcessEnv): { config: Partial<EcsSettings>; where: string } | undefined {
  const v = env.CONVERT_TO_ZARR_ECS;
  if (!v) return undefined;
  const isJson = v.trimStart().startsWith("{");
  const text = isJson ? v : existsSync(v) ? readFileSync(v, "utf8") : undefined;
  if (text === undefined) throw new ConvertError("Usage", "CONVERT_TO_ZARR_ECS is neither JSON nor an existing file", v);
  try {
    return { config: JSON.parse(text) as Partial<EcsSettings>, where: isJson ? "CONVERT_TO_ZARR_ECS" : v };
  } catch (e) {
    throw new ConvertError("Usage", `not valid JSON: ${(e as Error).message}`, isJson ? "CONVERT_TO_ZARR_ECS" : v);
  }
}

const stackPart = (s: StackConfig): Partial<EcsSettings> => {
  const { bucket: _b, stackName: _n, dashboard: _d, ...rest } = s;
  return rest;
};

export async function resolveEcsSettings(over: Partial<EcsSettings> = {}, env: NodeJS.ProcessEnv = process.env): Promise<EcsSettings> {
  const fromEnv = fromEnvVariable(env);
  let layers: { config: Partial<EcsSettings>; where: string }[] = [...(fromEnv ? [fromEnv] : [])];
  const complete = (l: typeof layers) => [over, ...l.map((x) => x.config)].some((c) => c.cluster) && [over, ...l.map((x) => x.config)].some((c) => c.taskDefinition);
  if (!complete(layers)) {
    const file = readStackConfig(env);
    if (file) layers.push({ config: stackPart(file), where: "the stack config file" });
  }
  // The SSM parameter only when AWS credentials exist: without them the SDK would wait on instance metadata.
  if (!complete(layers) && !env.AWS_ENDPOINT_URL_ECS && hasAwsCredentials(env)) {
    const ssm = await fetchStackConfig(env).catch(() => undefined);
    if (ssm) layers.push({ config: stackPart(ssm), where: `SSM parameter ${stackParameterName(env.CONVERT_TO_ZARR_STACK)}` });
  }
  // Last: the local ECS endpoint `convert-to-zarr ecs-local` runs, when nothing else names a pool.
  const local = complete(layers) ? undefined : readLocalEcsState(env);
  if (local) layers.push({ config: { endpoint: local.endpoint, cluster: local.cluster, taskDefinition: local.taskDefinition }, where: `local ECS endpoint ${local.endpoint}` });
  layers = layers.reverse(); // later entries override earlier ones below
  const merged = Object.assign({}, ECS_DEFAULTS, ...layers.map((l) => l.config), over) as Partial<EcsSettings>;
  if (!merged.cluster || !merged.taskDefinition) {
    throw new ConvertError("Usage", "no ECS worker pool configured: deploy the stack (README, \"Deploy on AWS\"), run `convert-to-zarr ecs-local`, or set CONVERT_TO_ZARR_ECS to {\"cluster\":…,\"taskDefinition\":…}");
  }
  const endpoint = merged.endpoint ?? env.AWS_ENDPOINT_URL_ECS;
  const region = merged.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return {
    ...(merged as EcsSettings),
    ...(endpoint && { endpoint }),
    ...(region && { region }),
    source: over.cluster ? "options" : layers.at(-1)?.where ?? "options",
  };
}
