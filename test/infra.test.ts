/**
 * The CDK stack, synthesized without an AWS account: its security properties asserted on the
 * CloudFormation template (aws-cdk-lib/assertions), cdk-nag's AWS Solutions checks with every
 * acknowledgement justified in infra/stack.ts, the CLI's `cdk synth`, and the worker image's context.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { App } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { buildApp } from "../infra/app.js";
import { LIFECYCLE_MAX_CHARS, lifecycleScript } from "../infra/lifecycle.js";
import { ConvertToZarrStack } from "../infra/stack.js";
import { parseStackConfig } from "../lib/exec/ecs/config.js";
import { ROOT, tempDir } from "./helpers.js";

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, any> };

const tmp = tempDir("infra");
after(() => tmp.cleanup());
let n = 0;

function synth(context: Record<string, string> = {}) {
  const app = new App({ outdir: join(tmp.dir, `out-${n++}`), context });
  const { stack } = buildApp(app);
  const template = Template.fromStack(stack); // synthesizes: cdk-nag runs as a validation plugin and fails the synth on a finding
  return { app, stack, template, resources: template.toJSON().Resources as Record<string, Resource> };
}

const actions = (s: Statement) => [s.Action].flat();
const statements = (resources: Record<string, Resource>) =>
  Object.values(resources).filter((r) => r.Type === "AWS::IAM::Policy").flatMap((r) => r.Properties.PolicyDocument.Statement as Statement[]);
const ofType = (resources: Record<string, Resource>, type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (resources: Record<string, Resource>, type: string, pathPart: string) =>
  ofType(resources, type).map(([id]) => id).find((id) => id.startsWith(pathPart))!;

describe("CDK stack (default options)", () => {
  const { app, template, resources } = synth();

  test("cdk-nag's AWS Solutions checks find nothing unacknowledged", () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    assert.deepEqual(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId).join(", ")}`), []);
    assert.equal(report.success, true);
  });

  test("buckets: no public access, encrypted, ACLs off, TLS 1.2+ only, access logged, retained", () => {
    const buckets = ofType(resources, "AWS::S3::Bucket");
    assert.equal(buckets.length, 2);
    for (const [, b] of buckets) {
      assert.deepEqual(b.Properties.PublicAccessBlockConfiguration, { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
      assert.equal(b.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm, "AES256");
      assert.deepEqual(b.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: "BucketOwnerEnforced" }] });
      assert.equal(b.DeletionPolicy, "Retain");
    }
    const data = resources[logicalId(resources, "AWS::S3::Bucket", "Data")]!;
    assert.equal(data.Properties.LoggingConfiguration.LogFilePrefix, "data/");
    assert.equal(data.Properties.VersioningConfiguration, undefined, "no versioning: rewritten chunks would pile up");
    assert.deepEqual(data.Properties.LifecycleConfiguration.Rules, [
      { Id: "abort-incomplete-uploads", AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: "Enabled" },
      { Id: "expire-scratch", Prefix: "tmp/", ExpirationInDays: 7, Status: "Enabled" },
    ]);
    for (const [, p] of ofType(resources, "AWS::S3::BucketPolicy")) {
      const st = p.Properties.PolicyDocument.Statement as Statement[];
      assert.ok(st.some((s) => s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false"), "TLS only");
      assert.ok(st.some((s) => s.Effect === "Deny" && s.Condition?.NumericLessThan?.["s3:TlsVersion"] === 1.2), "TLS 1.2 or later");
    }
    assert.equal(ofType(resources, "Custom::S3AutoDeleteObjects").length, 0);
  });

  test("network: private subnets only, no NAT or internet gateway, endpoints for S3 (gateway), ECR, logs and ECS", () => {
    template.resourceCountIs("AWS::EC2::NatGateway", 0);
    template.resourceCountIs("AWS::EC2::InternetGateway", 0);
    for (const [, s] of ofType(resources, "AWS::EC2::Subnet")) assert.equal(s.Properties.MapPublicIpOnLaunch, false);
    const endpoints = ofType(resources, "AWS::EC2::VPCEndpoint").map(([, e]) => ({ type: e.Properties.VpcEndpointType ?? "Gateway", service: JSON.stringify(e.Properties.ServiceName) }));
    const has = (type: string, suffix: string) => endpoints.some((e) => e.type === type && e.service.includes(suffix));
    assert.ok(has("Gateway", ".s3"));
    for (const s of [".ecr.api", ".ecr.dkr", ".logs", ".ecs\""]) assert.ok(has("Interface", s), s);
    // The endpoints accept HTTPS from the stack's workers and notebook only, not from a CIDR.
    const ingress = ofType(resources, "AWS::EC2::SecurityGroupIngress").map(([, r]) => r.Properties);
    assert.equal(ingress.length, 2);
    for (const i of ingress) {
      assert.equal(i.FromPort, 443);
      assert.equal(i.CidrIp, undefined);
      assert.ok(i.SourceSecurityGroupId);
    }
    template.hasResourceProperties("AWS::EC2::FlowLog", { TrafficType: "REJECT" });
  });

  test("workers: Fargate (and Spot) capacity, 2 vCPU / 4 GiB x86, nothing baked into the environment, separate task and execution roles", () => {
    template.hasResourceProperties("AWS::ECS::Cluster", { ClusterSettings: [{ Name: "containerInsights", Value: "enabled" }] });
    template.hasResourceProperties("AWS::ECS::ClusterCapacityProviderAssociations", { CapacityProviders: Match.arrayWith(["FARGATE", "FARGATE_SPOT"]) });
    const [[, td]] = ofType(resources, "AWS::ECS::TaskDefinition") as [[string, Resource]];
    assert.equal(td.Properties.Cpu, "2048");
    assert.equal(td.Properties.Memory, "4096");
    assert.deepEqual(td.Properties.RuntimePlatform, { CpuArchitecture: "X86_64", OperatingSystemFamily: "LINUX" });
    assert.deepEqual(td.Properties.RequiresCompatibilities, ["FARGATE"]);
    const [container] = td.Properties.ContainerDefinitions as Record<string, any>[];
    assert.equal(container!.Name, "worker");
    assert.equal(container!.Environment, undefined);
    assert.equal(container!.LogConfiguration.LogDriver, "awslogs");
    assert.notDeepEqual(td.Properties.TaskRoleArn, td.Properties.ExecutionRoleArn);
  });

  test("IAM: no S3 wildcard action and no S3 action on *; writes go to the stack's bucket only", () => {
    const all = statements(resources);
    for (const s of all) {
      const s3 = actions(s).filter((a) => a.startsWith("s3:"));
      if (!s3.length) continue;
      assert.ok(!s3.includes("s3:*"), JSON.stringify(s));
      assert.ok(![s.Resource].flat().includes("*"), `S3 actions on "*": ${JSON.stringify(s)}`);
    }
    const dataBucket = logicalId(resources, "AWS::S3::Bucket", "Data");
    const writes = all.filter((s) => actions(s).some((a) => a === "s3:PutObject" || a === "s3:DeleteObject"));
    assert.equal(writes.length, 2, "the task role and the notebook role");
    for (const w of writes) assert.deepEqual(w.Resource, { "Fn::Join": ["", [{ "Fn::GetAtt": [dataBucket, "Arn"] }, "/*"]] });
  });

  test("the notebook role may run this task definition in this cluster only, and pass only the worker's two roles to ECS tasks", () => {
    const all = statements(resources);
    const cluster = logicalId(resources, "AWS::ECS::Cluster", "Cluster");
    const td = logicalId(resources, "AWS::ECS::TaskDefinition", "Worker");
    const run = all.filter((s) => actions(s).includes("ecs:RunTask"));
    assert.equal(run.length, 1);
    assert.deepEqual(run[0]!.Resource, { Ref: td });
    assert.deepEqual(run[0]!.Condition, { ArnEquals: { "ecs:cluster": { "Fn::GetAtt": [cluster, "Arn"] } } });
    const pass = all.filter((s) => actions(s).includes("iam:PassRole"));
    assert.equal(pass.length, 1);
    assert.deepEqual(pass[0]!.Condition, { StringLike: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } });
    const roles = (pass[0]!.Resource as { "Fn::GetAtt": [string, string] }[]).map((r) => r["Fn::GetAtt"][0]).sort();
    assert.deepEqual(roles, [logicalId(resources, "AWS::IAM::Role", "WorkerExecutionRole"), logicalId(resources, "AWS::IAM::Role", "WorkerTaskRole")].sort());
    const list = all.find((s) => actions(s).includes("ecs:ListTasks"))!;
    assert.deepEqual(list.Condition, { ArnEquals: { "ecs:cluster": { "Fn::GetAtt": [cluster, "Arn"] } } });
    const stop = all.find((s) => actions(s).includes("ecs:StopTask"))!;
    assert.match(JSON.stringify(stop.Resource), /:task\/",\{"Ref":"Cluster[0-9A-F]+"\},"\/\*"/);
  });

  test("the notebook: Amazon Linux 2023, no root, IMDSv2, encrypted volume, in a private subnet, with lifecycle scripts within SageMaker's limit", () => {
    const [[, nb]] = ofType(resources, "AWS::SageMaker::NotebookInstance") as [[string, Resource]];
    assert.equal(nb.Properties.PlatformIdentifier, "notebook-al2023-v1");
    assert.equal(nb.Properties.RootAccess, "Disabled");
    assert.deepEqual(nb.Properties.InstanceMetadataServiceConfiguration, { MinimumInstanceMetadataServiceVersion: "2" });
    assert.ok(nb.Properties.KmsKeyId);
    assert.match(JSON.stringify(nb.Properties.SubnetId), /Vpcprivate/);
    assert.equal(nb.Properties.DirectInternetAccess, "Enabled", "no NAT: SageMaker's internet access installs the kernel");
    const [[, lcc]] = ofType(resources, "AWS::SageMaker::NotebookInstanceLifecycleConfig") as [[string, Resource]];
    const literal = (hook: string) => (lcc.Properties[hook][0].Content["Fn::Base64"]["Fn::Join"][1] as unknown[]).filter((x) => typeof x === "string").join("");
    assert.match(literal("OnCreate"), /^#!\/bin\/bash\n/);
    // The repository's S3 URL goes between the quotes at deploy time.
    assert.ok(literal("OnCreate").includes("REPO_ARCHIVE=''\n"));
    assert.match(JSON.stringify(lcc.Properties.OnCreate), /"Fn::Sub":"s3:\/\/cdk-hnb659fds-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/[0-9a-f]{64}\.zip"/);
    assert.ok(!literal("OnCreate").includes("__REPO_ARCHIVE_URL__"));
    assert.ok(!literal("OnStart").includes("__STACK_CONFIG_JSON__"));
    assert.ok(Buffer.from(literal("OnStart")).toString("base64").length < LIFECYCLE_MAX_CHARS);
  });

  test("the stack's config is published as an SSM parameter the library can parse", () => {
    const [[, p]] = ofType(resources, "AWS::SSM::Parameter") as [[string, Resource]];
    assert.equal(p.Properties.Name, "/convert-to-zarr/ConvertToZarr");
    // Resolve the tokens with stand-ins, as CloudFormation would, and parse it like the library does.
    const parts = p.Properties.Value["Fn::Join"][1] as unknown[];
    const text = parts.map((x) => (typeof x === "string" ? x : "resolved-value")).join("");
    const config = parseStackConfig(text, "ssm");
    assert.deepEqual(Object.keys(config).sort(), ["architecture", "bucket", "cluster", "containerName", "dashboard", "logGroup", "maxWorkers", "memoryGiB", "region", "securityGroups", "spot", "stackName", "subnets", "taskDefinition", "vcpu", "workerTimeoutS"]);
    assert.equal(config.vcpu, 2);
    assert.equal(config.containerName, "worker");
  });

  test("a dashboard of workers running, chunks written and errors, fed by metric filters on the worker's JSON log lines", () => {
    const filters = ofType(resources, "AWS::Logs::MetricFilter").map(([, f]) => [f.Properties.MetricTransformations[0].MetricName, f.Properties.FilterPattern, f.Properties.MetricTransformations[0].MetricValue]);
    assert.deepEqual(filters.sort(), [
      ["ChunksWritten", '{ $.event = "task-done" }', "$.chunks"],
      ["Errors", '{ ($.event = "task-failed") || ($.event = "worker-error") || ($.event = "worker-timeout") }', "1"],
      ["TasksDone", '{ $.event = "task-done" }', "1"],
    ]);
    const [[, d]] = ofType(resources, "AWS::CloudWatch::Dashboard") as [[string, Resource]];
    const body = JSON.stringify(d.Properties.DashboardBody);
    for (const title of ["Workers running", "Chunks written", "Errors"]) assert.ok(body.includes(title), title);
    assert.ok(body.includes("ECS/ContainerInsights") && body.includes("TaskCount"));
  });

  test("the worker image's build context holds the Dockerfile, package*.json and dist/lib only", () => {
    const out = app.outdir;
    const manifest = JSON.parse(readFileSync(join(out, "ConvertToZarr.assets.json"), "utf8")) as { dockerImages: Record<string, { source: { directory: string; dockerFile: string } }> };
    const [image] = Object.values(manifest.dockerImages);
    assert.equal(image!.source.dockerFile, "infra/worker/Dockerfile");
    const dir = join(out, image!.source.directory);
    assert.deepEqual(readdirSync(dir).sort(), ["dist", "infra", "package-lock.json", "package.json"]);
    assert.deepEqual(readdirSync(join(dir, "dist")), ["lib"]);
    assert.deepEqual(readdirSync(join(dir, "infra")), ["worker"]);
    assert.ok(existsSync(join(dir, "dist/lib/worker/ecs-main.js")));
    assert.match(readFileSync(join(dir, "infra/worker/Dockerfile"), "utf8"), /ENTRYPOINT \["node", "dist\/lib\/worker\/ecs-main\.js"\]/);
  });
});

describe("CDK stack options", () => {
  test("nat, removeBucket, source buckets and ARM workers: one NAT gateway, no SageMaker internet, buckets deleted with their objects, read-only sources", () => {
    const { app, template, resources } = synth({ nat: "true", removeBucket: "true", sourceBuckets: "era5-pds, my-inputs", workerArch: "ARM64", workerVcpu: "4", workerMemoryGiB: "8" });
    assert.deepEqual(new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName), []);
    template.resourceCountIs("AWS::EC2::NatGateway", 1);
    template.hasResourceProperties("AWS::SageMaker::NotebookInstance", { DirectInternetAccess: "Disabled" });
    for (const [, b] of ofType(resources, "AWS::S3::Bucket")) assert.equal(b.DeletionPolicy, "Delete");
    assert.equal(ofType(resources, "Custom::S3AutoDeleteObjects").length, 2);
    template.hasResourceProperties("AWS::ECS::TaskDefinition", { Cpu: "4096", Memory: "8192", RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" } });
    const reads = statements(resources).filter((s) => JSON.stringify(s.Resource).includes("era5-pds"));
    assert.ok(reads.length >= 1);
    for (const s of reads.filter((x) => JSON.stringify(x.Resource).includes("era5-pds/*"))) assert.deepEqual(actions(s), ["s3:GetObject"]);
  });

  test("bad options are refused at synth with the reason", () => {
    assert.throws(() => synth({ workerArch: "arm" }), /context workerArch must be X86_64 or ARM64, not "arm"/);
    assert.throws(() => synth({ workerVcpu: "-1" }), /context workerVcpu must be a positive number/);
    assert.throws(() => new ConvertToZarrStack(new App({ outdir: join(tmp.dir, "x") }), "S", { repoRoot: ROOT, worker: { spot: true, architecture: "ARM64" } }), /Fargate Spot runs X86_64 workers only/);
  });

  test("a lifecycle script over SageMaker's 16,384-character limit is refused at synth", () => {
    const root = join(tmp.dir, "big");
    mkdirSync(join(root, "kernel", "sagemaker"), { recursive: true });
    writeFileSync(join(root, "kernel", "sagemaker", "on-start.sh"), `#!/bin/bash\n# ${"x".repeat(11000)}\nX='__V__'\n`);
    assert.throws(() => lifecycleScript(root, "on-start.sh", { __V__: "v" }), /on-start\.sh: ~\d+ base64 characters with its values, over SageMaker's 16384/);
    writeFileSync(join(root, "kernel", "sagemaker", "on-start.sh"), "#!/bin/bash\nX=1\n");
    assert.throws(() => lifecycleScript(root, "on-start.sh", { __V__: "v" }), /has no __V__/);
  });
});

describe("cdk synth (the CDK CLI)", () => {
  test("synthesizes the app with cdk-nag passing, without an AWS account", () => {
    // A cdk.json of its own: the repository's runs `npm run build` first, which would replace dist/ under the running tests.
    const dir = join(tmp.dir, "cli");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "cdk.json"), JSON.stringify({ app: `${JSON.stringify(process.execPath)} ${JSON.stringify(join(ROOT, "dist/infra/app.js"))}` }));
    const r = spawnSync(process.execPath, [join(ROOT, "node_modules/aws-cdk/bin/cdk"), "synth", "--quiet", "--no-notices", "-o", "out"], {
      cwd: dir, encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", HOME: dir, AWS_EC2_METADATA_DISABLED: "true", CDK_DISABLE_VERSION_CHECK: "1" },
    });
    assert.equal(r.status, 0, r.stderr);
    const template = JSON.parse(readFileSync(join(dir, "out", "ConvertToZarr.template.json"), "utf8")) as { Resources: Record<string, Resource> };
    assert.equal(ofType(template.Resources, "AWS::SageMaker::NotebookInstance").length, 1);
    const report = JSON.parse(readFileSync(join(dir, "out", "validation-report.json"), "utf8")) as { pluginReports?: { summary: { status: string } }[] };
    assert.ok(report.pluginReports?.every((p) => p.summary.status === "success"), JSON.stringify(report).slice(0, 500));
  });
});
