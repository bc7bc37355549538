/**
 * Everything convert-to-zarr needs on AWS, in one stack:
 * - a bucket for inputs and stores (private, TLS-only, encrypted, logged, retained unless asked);
 * - a VPC whose private subnets reach S3, ECR, CloudWatch Logs and ECS through endpoints, no NAT
 *   unless asked for;
 * - an ECS cluster and a Fargate task definition for the worker (lib/worker/ecs-main.ts), with a
 *   task role that reads the source buckets and writes only this stack's bucket;
 * - a SageMaker notebook instance with the TypeScript kernel and this repository, whose role may run
 *   and stop that task definition only;
 * - the stack's config (StackConfig, lib/exec/ecs/config.ts) where the library reads it: an SSM
 *   parameter and the notebook's ~/SageMaker/.convert-to-zarr/stack.json;
 * - a CloudWatch dashboard: workers running, chunks written, errors.
 */
import { Aws, CfnOutput, DefaultStackSynthesizer, Duration, RemovalPolicy, Stack, Token, Validations, type StackProps } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { Platform } from "aws-cdk-lib/aws-ecr-assets";
import * as ecs from "aws-cdk-lib/aws-ecs";
import * as iam from "aws-cdk-lib/aws-iam";
import * as kms from "aws-cdk-lib/aws-kms";
import * as logs from "aws-cdk-lib/aws-logs";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as s3assets from "aws-cdk-lib/aws-s3-assets";
import * as sagemaker from "aws-cdk-lib/aws-sagemaker";
import * as ssm from "aws-cdk-lib/aws-ssm";
import { IgnoreMode } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ECS_DEFAULTS } from "../lib/exec/ecs/config.js";
import { lifecycleScript } from "./lifecycle.js";

export interface WorkerOptions {
  /** vCPUs per worker: 1, 2, 4, 8 or 16 (default 2). */
  vcpu: number;
  /** Memory per worker in GiB (default 4; Fargate's valid pairs apply). */
  memoryGiB: number;
  architecture: "X86_64" | "ARM64";
  /** Run workers on Fargate Spot (X86_64 only). */
  spot: boolean;
  /** Local disk per worker, for `--remote-read download` (21-200 GiB; default 21). */
  ephemeralStorageGiB: number;
  /** Workers one run may start at most (a cost cap). */
  maxWorkers: number;
  /** A worker stops taking tasks near this and exits at it (ECS has no task timeout). */
  timeoutSeconds: number;
}

export interface ConvertToZarrStackProps extends StackProps {
  /** The repository root: the worker image's build context and the notebook's code. */
  repoRoot: string;
  worker?: Partial<WorkerOptions>;
  /** Buckets (names) the workers and the notebook may read inputs from, besides the stack's own. */
  sourceBuckets?: string[];
  /** A NAT gateway, so workers and the notebook reach the internet through the VPC (e.g. a public bucket in another region). */
  natGateway?: boolean;
  /** Delete the bucket and its objects on `cdk destroy` (default: keep it). */
  removeBucketOnDestroy?: boolean;
  notebookInstanceType?: string;
  notebookVolumeGiB?: number;
}

export const DEFAULT_WORKER: WorkerOptions = {
  vcpu: ECS_DEFAULTS.vcpu, memoryGiB: ECS_DEFAULTS.memoryGiB, architecture: ECS_DEFAULTS.architecture, spot: ECS_DEFAULTS.spot,
  ephemeralStorageGiB: 21, maxWorkers: ECS_DEFAULTS.maxWorkers, timeoutSeconds: ECS_DEFAULTS.workerTimeoutS,
};

/** Files the worker image's build context may hold (infra/worker/Dockerfile copies these). */
export const WORKER_CONTEXT_EXCLUDE = ["*", "!package.json", "!package-lock.json", "!dist", "dist/*", "!dist/lib", "!infra", "infra/*", "!infra/worker"];
/** What the notebook's copy of the repository leaves out: installs, builds and local data. */
export const REPOSITORY_EXCLUDE = ["node_modules", "dist", "build", "cdk.out", ".git", ".bench", ".tmp", "s3-data", "*.zarr", "**/*.pyc", ".venv", ".venv-moto"];

export class ConvertToZarrStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly cluster: ecs.Cluster;
  readonly notebookRole: iam.Role;

  constructor(scope: Construct, id: string, props: ConvertToZarrStackProps) {
    super(scope, id, props);
    const worker = { ...DEFAULT_WORKER, ...props.worker };
    if (worker.spot && worker.architecture !== "X86_64") throw new Error("Fargate Spot runs X86_64 workers only");
    const sources = props.sourceBuckets ?? [];
    const removeBucket = props.removeBucketOnDestroy ?? false;

    // Storage: access logs, then the data bucket.
    const accessLogs = new s3.Bucket(this, "AccessLogs", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: removeBucket ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: removeBucket,
    });
    Validations.of(accessLogs).acknowledge({ id: "AwsSolutions-S1", reason: "This is the access-log bucket; logging it into itself would loop." });

    this.bucket = new s3.Bucket(this, "Data", {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // S3-managed keys: a KMS request per chunk PUT would add up over millions of small objects.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: "data/",
      // No versioning: rewritten chunks (appends, --overwrite) would pile up as noncurrent versions.
      versioned: false,
      lifecycleRules: [
        { id: "abort-incomplete-uploads", abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: "expire-scratch", prefix: "tmp/", expiration: Duration.days(7) },
      ],
      removalPolicy: removeBucket ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      autoDeleteObjects: removeBucket,
    });

    // Network: private subnets; AWS services through endpoints; a NAT gateway only on request.
    const flowLogs = new logs.LogGroup(this, "FlowLogs", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const privateType = props.natGateway ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PRIVATE_ISOLATED;
    const vpc = new ec2.Vpc(this, "Vpc", {
      maxAzs: 2,
      natGateways: props.natGateway ? 1 : 0,
      subnetConfiguration: [
        ...(props.natGateway ? [{ name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }] : []),
        { name: "private", subnetType: privateType, cidrMask: 22 },
      ],
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: { rejected: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT } },
    });
    const subnets = { subnetType: privateType };
    const workerSg = new ec2.SecurityGroup(this, "WorkerSecurityGroup", { vpc, allowAllOutbound: false, description: "convert-to-zarr workers: HTTPS out only" });
    workerSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs and S3 over HTTPS");
    const notebookSg = new ec2.SecurityGroup(this, "NotebookSecurityGroup", { vpc, allowAllOutbound: false, description: "convert-to-zarr notebook: HTTPS out only" });
    notebookSg.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "AWS APIs, S3, and package registries over HTTPS");
    // The endpoints answer the workers and the notebook only.
    const endpointSg = new ec2.SecurityGroup(this, "EndpointSecurityGroup", { vpc, allowAllOutbound: false, description: "convert-to-zarr VPC endpoints" });
    for (const peer of [workerSg, notebookSg]) endpointSg.addIngressRule(peer, ec2.Port.tcp(443), "HTTPS from the stack's workers and notebook");
    // Fargate pulls the image (ECR API + registry, layers from S3) and ships logs; the notebook calls ECS.
    for (const [name, service] of [
      ["Ecr", ec2.InterfaceVpcEndpointAwsService.ECR],
      ["EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
      ["Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ["Ecs", ec2.InterfaceVpcEndpointAwsService.ECS],
    ] as const) {
      vpc.addInterfaceEndpoint(`${name}Endpoint`, { service, subnets, privateDnsEnabled: true, securityGroups: [endpointSg], open: false });
    }

    // The worker pool.
    this.cluster = new ecs.Cluster(this, "Cluster", { vpc, enableFargateCapacityProviders: true, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const workerLogs = new logs.LogGroup(this, "WorkerLogs", { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const taskRole = new iam.Role(this, "WorkerTaskRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "convert-to-zarr workers: read the source buckets, read and write the stack's bucket",
    });
    this.grantBucketAccess(taskRole, sources);
    this.taskDefinition = new ecs.FargateTaskDefinition(this, "Worker", {
      family: `${id}-worker`,
      cpu: worker.vcpu * 1024,
      memoryLimitMiB: worker.memoryGiB * 1024,
      ephemeralStorageGiB: worker.ephemeralStorageGiB,
      runtimePlatform: {
        cpuArchitecture: worker.architecture === "ARM64" ? ecs.CpuArchitecture.ARM64 : ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
      taskRole,
    });
    this.taskDefinition.addContainer("worker", {
      containerName: "worker",
      image: ecs.ContainerImage.fromAsset(props.repoRoot, {
        file: "infra/worker/Dockerfile",
        platform: worker.architecture === "ARM64" ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
        ignoreMode: IgnoreMode.DOCKER,
        exclude: WORKER_CONTEXT_EXCLUDE,
      }),
      logging: ecs.LogDrivers.awsLogs({ logGroup: workerLogs, streamPrefix: "worker" }),
      // Per-run values arrive as RunTask overrides; nothing is baked in (AwsSolutions-ECS2).
    });

    // The notebook.
    this.notebookRole = new iam.Role(this, "NotebookRole", {
      assumedBy: new iam.ServicePrincipal("sagemaker.amazonaws.com"),
      description: "convert-to-zarr notebook: use the stack's bucket, run and stop the worker task definition",
    });
    this.grantBucketAccess(this.notebookRole, sources);
    this.grantRunWorkers(this.notebookRole, [taskRole, this.taskDefinition.obtainExecutionRole()]);
    const stackParameterName = `/convert-to-zarr/${id}`;

    const config = {
      bucket: this.bucket.bucketName,
      region: Aws.REGION,
      stackName: id,
      cluster: this.cluster.clusterName,
      taskDefinition: this.taskDefinition.taskDefinitionArn,
      containerName: "worker",
      subnets: vpc.selectSubnets(subnets).subnetIds,
      securityGroups: [workerSg.securityGroupId],
      vcpu: worker.vcpu,
      memoryGiB: worker.memoryGiB,
      architecture: worker.architecture,
      spot: worker.spot,
      maxWorkers: worker.maxWorkers,
      workerTimeoutS: worker.timeoutSeconds,
      logGroup: workerLogs.logGroupName,
      dashboard: `${id}-workers`,
    };
    const configJson = this.toJsonString(config);
    const parameter = new ssm.StringParameter(this, "StackConfig", {
      parameterName: stackParameterName,
      stringValue: configJson,
      description: "convert-to-zarr: where the bucket and the worker pool are (lib/exec/ecs/config.ts reads this)",
    });
    parameter.grantRead(this.notebookRole);

    const repository = new s3assets.Asset(this, "Repository", { path: props.repoRoot, exclude: REPOSITORY_EXCLUDE });
    repository.grantRead(this.notebookRole);
    const lifecycle = new sagemaker.CfnNotebookInstanceLifecycleConfig(this, "NotebookLifecycle", {
      notebookInstanceLifecycleConfigName: `${id}-lifecycle`,
      onCreate: [{ content: lifecycleScript(props.repoRoot, "on-create.sh", { __REPO_ARCHIVE_URL__: repository.s3ObjectUrl }) }],
      onStart: [{ content: lifecycleScript(props.repoRoot, "on-start.sh", { __STACK_CONFIG_JSON__: configJson }) }],
    });
    const volumeKey = new kms.Key(this, "NotebookVolumeKey", { enableKeyRotation: true, description: "convert-to-zarr notebook volume", removalPolicy: RemovalPolicy.DESTROY });
    // The lifecycle scripts log to CloudWatch as the notebook's role.
    this.notebookRole.addToPolicy(new iam.PolicyStatement({
      actions: ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
      resources: [`arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/sagemaker/NotebookInstances:*`],
    }));
    const notebook = new sagemaker.CfnNotebookInstance(this, "Notebook", {
      notebookInstanceName: `${id}-notebook`,
      instanceType: props.notebookInstanceType ?? "ml.t3.medium",
      roleArn: this.notebookRole.roleArn,
      // Amazon Linux 2 notebooks can no longer be created since 2026-07-01.
      platformIdentifier: "notebook-al2023-v1",
      rootAccess: "Disabled",
      kmsKeyId: volumeKey.keyId,
      subnetId: vpc.selectSubnets(subnets).subnetIds[0]!,
      securityGroupIds: [notebookSg.securityGroupId],
      // Without a NAT gateway, SageMaker's own internet access is how the notebook installs Node, the
      // kernel and npm packages; with one, everything goes through the VPC.
      directInternetAccess: props.natGateway ? "Disabled" : "Enabled",
      volumeSizeInGb: props.notebookVolumeGiB ?? 20,
      instanceMetadataServiceConfiguration: { minimumInstanceMetadataServiceVersion: "2" },
      lifecycleConfigName: lifecycle.attrNotebookInstanceLifecycleConfigName,
    });
    if (!props.natGateway) {
      Validations.of(notebook).acknowledge({
        id: "AwsSolutions-SM3",
        reason: "Without a NAT gateway the notebook installs Node, the TypeScript kernel and npm packages through SageMaker's internet access; deploy with -c nat=true to turn it off.",
      });
    }

    this.dashboard(id, workerLogs);

    new CfnOutput(this, "BucketName", { value: this.bucket.bucketName });
    new CfnOutput(this, "NotebookName", { value: notebook.attrNotebookInstanceName });
    new CfnOutput(this, "NotebookUrl", { value: `https://${Aws.REGION}.console.aws.amazon.com/sagemaker/home?region=${Aws.REGION}#/notebook-instances/openNotebook/${id}-notebook?view=lab` });
    new CfnOutput(this, "StackConfigParameter", { value: parameter.parameterName });
    new CfnOutput(this, "DashboardUrl", { value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${id}-workers` });

    this.acknowledgeGeneratedFindings(sources);
  }

  /** Read and write the stack's bucket; read the source buckets. Exact actions, never s3:* or "*". */
  private grantBucketAccess(role: iam.Role, sources: string[]): void {
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      resources: [this.bucket.bucketArn, ...sources.map((b) => `arn:${Aws.PARTITION}:s3:::${b}`)],
    }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
      resources: [this.bucket.arnForObjects("*")],
    }));
    if (sources.length) {
      role.addToPolicy(new iam.PolicyStatement({ actions: ["s3:GetObject"], resources: sources.map((b) => `arn:${Aws.PARTITION}:s3:::${b}/*`) }));
    }
  }

  /** RunTask on this task definition in this cluster only, PassRole to its two roles only, stop and watch its tasks. */
  private grantRunWorkers(role: iam.Role, passed: iam.IRole[]): void {
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["ecs:RunTask"],
      resources: [this.taskDefinition.taskDefinitionArn],
      conditions: { ArnEquals: { "ecs:cluster": this.cluster.clusterArn } },
    }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["iam:PassRole"],
      resources: passed.map((r) => r.roleArn),
      conditions: { StringLike: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    }));
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["ecs:DescribeTasks", "ecs:StopTask"],
      resources: [`arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:task/${this.cluster.clusterName}/*`],
    }));
    // ListTasks has no task resource; the condition keeps it to this cluster.
    role.addToPolicy(new iam.PolicyStatement({
      actions: ["ecs:ListTasks"],
      resources: ["*"],
      conditions: { ArnEquals: { "ecs:cluster": this.cluster.clusterArn } },
    }));
  }

  private dashboard(id: string, workerLogs: logs.LogGroup): void {
    const namespace = "ConvertToZarr";
    const counter = (name: string, pattern: string, value = "1") => {
      new logs.MetricFilter(this, `${name}Filter`, {
        logGroup: workerLogs, metricNamespace: namespace, metricName: name, metricValue: value,
        filterPattern: logs.FilterPattern.literal(pattern),
      });
      return new cloudwatch.Metric({ namespace, metricName: name, statistic: "Sum", period: Duration.minutes(1) });
    };
    // The worker prints one JSON object per line (lib/worker/ecs-main.ts); these count its events.
    const chunks = counter("ChunksWritten", '{ $.event = "task-done" }', "$.chunks");
    const tasks = counter("TasksDone", '{ $.event = "task-done" }');
    const errors = counter("Errors", '{ ($.event = "task-failed") || ($.event = "worker-error") || ($.event = "worker-timeout") }');
    const running = new cloudwatch.Metric({
      namespace: "ECS/ContainerInsights", metricName: "TaskCount", dimensionsMap: { ClusterName: this.cluster.clusterName },
      statistic: "Maximum", period: Duration.minutes(1),
    });
    new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: `${id}-workers`,
      widgets: [[
        new cloudwatch.GraphWidget({ title: "Workers running", left: [running], width: 8 }),
        new cloudwatch.GraphWidget({ title: "Chunks written / tasks done per minute", left: [chunks], right: [tasks], width: 8 }),
        new cloudwatch.GraphWidget({ title: "Errors (failed tasks, worker errors and timeouts)", left: [errors], width: 8 }),
      ]],
    });
  }

  /** cdk-nag findings on what CDK generates or on deliberately scoped wildcards, each with its reason. */
  private acknowledgeGeneratedFindings(sources: string[]): void {
    const ack = (scope: Construct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    const bucketObjects = `AwsSolutions-IAM5[Resource::<${this.getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/*]`;
    for (const role of [this.notebookRole, this.taskDefinition.taskRole]) {
      ack(role, bucketObjects, "Objects of the stack's own bucket: Zarr stores are many objects under prefixes chosen at run time.");
      for (const b of sources) ack(role, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${b}/*]`, `Read-only access to the objects of the configured source bucket ${b}.`);
    }
    ack(this.notebookRole, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${this.getLogicalId(this.cluster.node.defaultChild as ecs.CfnCluster)}>/*]`,
      "Describe and stop the worker tasks of this cluster only; task ids are made at run time.");
    ack(this.notebookRole, "AwsSolutions-IAM5[Resource::*]", "ecs:ListTasks has no resource type; the ecs:cluster condition limits it to this cluster.");
    ack(this.notebookRole, "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/NotebookInstances:*]",
      "SageMaker's own log group for notebook lifecycle output; stream names are made by SageMaker.");
    // cdk-nag writes pseudo parameters as <AWS::…> and known values as they are.
    const known = (v: string, pseudo: string) => (Token.isUnresolved(v) ? `<AWS::${pseudo}>` : v);
    const assets = `cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${known(this.account, "AccountId")}-${known(this.region, "Region")}`;
    ack(this.notebookRole, `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assets}/*]`, "Generated by the asset grant: read the notebook's copy of the repository from CDK's asset bucket.");
    ack(this.notebookRole, "AwsSolutions-IAM5[Action::s3:GetBucket*]", "Generated by the asset grant: read the notebook's copy of the repository.");
    ack(this.notebookRole, "AwsSolutions-IAM5[Action::s3:GetObject*]", "Generated by the asset grant: read the notebook's copy of the repository.");
    ack(this.notebookRole, "AwsSolutions-IAM5[Action::s3:List*]", "Generated by the asset grant: read the notebook's copy of the repository.");
    const execution = this.taskDefinition.obtainExecutionRole();
    ack(execution, "AwsSolutions-IAM5[Resource::*]", "Generated by CDK: ecr:GetAuthorizationToken has no resource type.");
  }
}

