/**
 * `cdk deploy` entry (cdk.json runs `npm run build`, then this compiled file). Options come as CDK
 * context, e.g. `npx cdk deploy -c nat=true -c sourceBuckets=era5-pds,my-inputs -c workerVcpu=4`:
 *   stackName (ConvertToZarr), nat, removeBucket, sourceBuckets, workerVcpu, workerMemoryGiB,
 *   workerArch (X86_64|ARM64), spot, maxWorkers, workerTimeoutSeconds, notebookInstanceType.
 * cdk-nag's AWS Solutions checks run on every synth; a finding fails it.
 */
import { fileURLToPath } from "node:url";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConvertToZarrStack, type ConvertToZarrStackProps } from "./stack.js";

/** The repository root, from dist/infra/app.js. */
const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export function propsFromContext(app: App): Omit<ConvertToZarrStackProps, "repoRoot"> {
  const get = (k: string): string | undefined => {
    const v: unknown = app.node.tryGetContext(k);
    return v === undefined || v === null ? undefined : String(v);
  };
  const flag = (k: string) => get(k) === "true";
  const num = (k: string) => {
    const v = get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`context ${k} must be a positive number, not "${v}"`);
    return n;
  };
  const arch = get("workerArch");
  if (arch !== undefined && arch !== "X86_64" && arch !== "ARM64") throw new Error(`context workerArch must be X86_64 or ARM64, not "${arch}"`);
  const worker: ConvertToZarrStackProps["worker"] = {
    ...(num("workerVcpu") && { vcpu: num("workerVcpu")! }),
    ...(num("workerMemoryGiB") && { memoryGiB: num("workerMemoryGiB")! }),
    ...(arch && { architecture: arch }),
    ...(get("spot") !== undefined && { spot: flag("spot") }),
    ...(num("maxWorkers") && { maxWorkers: num("maxWorkers")! }),
    ...(num("workerTimeoutSeconds") && { timeoutSeconds: num("workerTimeoutSeconds")! }),
  };
  return {
    worker,
    natGateway: flag("nat"),
    removeBucketOnDestroy: flag("removeBucket"),
    sourceBuckets: (get("sourceBuckets") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    ...(get("notebookInstanceType") && { notebookInstanceType: get("notebookInstanceType")! }),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  };
}

export function buildApp(app = new App()): { app: App; stack: ConvertToZarrStack } {
  // Access logs delivered under a bucket policy, not the LogDeliveryWrite ACL (so both buckets can
  // have ACLs disabled, BucketOwnerEnforced).
  app.node.setContext("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", true);
  const stack = new ConvertToZarrStack(app, app.node.tryGetContext("stackName") ?? "ConvertToZarr", { repoRoot: REPO_ROOT, ...propsFromContext(app) });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildApp().app.synth();
