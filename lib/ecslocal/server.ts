/**
 * A local endpoint speaking the ECS API (RunTask, DescribeTasks, StopTask, ListTasks; AWS JSON 1.1)
 * to the real SDK, and the container metadata endpoint (v4) to workers. Each "task" is a local process
 * running its task definition's command with the environment a container would get: the definition's
 * variables plus RunTask's container overrides, nothing inherited. It lets the ECS executor run end to
 * end without an AWS account, against the local S3 endpoint.
 * Written by hand: the emulators that cover ECS (LocalStack, moto) need Python or Docker, which are
 * not available here, and this is the ~250 lines of the API that the executor uses.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface LocalTaskDefinition {
  family: string;
  containerName: string;
  /** What the container runs: the image's entry point. */
  command: string[];
  environment?: Record<string, string>;
  cwd?: string;
}

export interface LocalEcsOptions {
  cluster?: string;
  taskDefinitions: LocalTaskDefinition[];
  region?: string;
  /** Time from RunTask to the process start (Fargate takes ~60 s; tests want little). */
  startDelayMs?: number;
  /** Time from StopTask's SIGTERM to SIGKILL (ECS's default stop timeout: 30 s). */
  stopTimeoutMs?: number;
  /** 0 (default): a free port. */
  port?: number;
  /** Lets a test see every task start. */
  onTaskStarted?: (t: LocalTask) => void;
}

export interface LocalTask {
  taskArn: string;
  family: string;
  lastStatus: "PROVISIONING" | "RUNNING" | "STOPPED";
  desiredStatus: "RUNNING" | "STOPPED";
  startedBy?: string;
  createdAt: Date;
  startedAt?: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  exitCode?: number;
  containerName: string;
  environment: Record<string, string>;
  /** Everything the process printed, like the task's log stream. */
  log: string[];
  pid?: number;
}

export interface LocalEcs {
  endpoint: string;
  cluster: string;
  tasks(): LocalTask[];
  /** Every API call received, in order: operation and request body. */
  calls(): { op: string; body: Record<string, any> }[];
  /** Kills a running task's process as the platform would (e.g. out of memory), with this reason. */
  kill(taskArn: string, reason?: string): void;
  close(): Promise<void>;
}

const ACCOUNT = "000000000000";
const TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113.";
const SIGNALS: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };

class ApiError extends Error {
  constructor(readonly type: string, message: string) {
    super(message);
  }
}

/** The name part of a cluster or task-definition reference (name, family:rev or ARN). */
const nameOf = (ref: string) => ref.slice(ref.lastIndexOf("/") + 1).split(":")[0]!;
const epoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

export async function startLocalEcs(opts: LocalEcsOptions): Promise<LocalEcs> {
  const region = opts.region ?? "us-east-1";
  const cluster = opts.cluster ?? "convert-to-zarr";
  const clusterArn = `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${cluster}`;
  const defs = new Map(opts.taskDefinitions.map((d) => [d.family, d]));
  const tasks = new Map<string, LocalTask>();
  const children = new Map<string, ChildProcess>();
  const exits = new Set<Promise<void>>();
  const calls: { op: string; body: Record<string, any> }[] = [];
  let endpoint = "";

  const view = (t: LocalTask) => ({
    taskArn: t.taskArn,
    clusterArn,
    taskDefinitionArn: `arn:aws:ecs:${region}:${ACCOUNT}:task-definition/${t.family}:1`,
    lastStatus: t.lastStatus,
    desiredStatus: t.desiredStatus,
    launchType: "FARGATE",
    ...(t.startedBy && { startedBy: t.startedBy }),
    createdAt: epoch(t.createdAt),
    ...(t.startedAt && { startedAt: epoch(t.startedAt) }),
    ...(t.stoppedAt && { stoppedAt: epoch(t.stoppedAt), stoppingAt: epoch(t.stoppedAt) }),
    ...(t.stoppedReason && { stoppedReason: t.stoppedReason }),
    ...(t.stopCode && { stopCode: t.stopCode }),
    containers: [{
      name: t.containerName,
      lastStatus: t.lastStatus,
      ...(t.exitCode !== undefined && { exitCode: t.exitCode }),
    }],
  });

  const stop = (t: LocalTask, code: number, reason: string, stopCode: string) => {
    if (t.lastStatus === "STOPPED") return;
    Object.assign(t, { lastStatus: "STOPPED", desiredStatus: "STOPPED", stoppedAt: new Date(), exitCode: code });
    t.stoppedReason ??= reason;
    t.stopCode ??= stopCode;
  };

  const launch = (t: LocalTask, def: LocalTaskDefinition) => {
    if (t.desiredStatus === "STOPPED") return stop(t, 0, t.stoppedReason ?? "Task stopped before it started", "UserInitiated");
    const child = spawn(def.command[0]!, def.command.slice(1), { cwd: def.cwd, env: t.environment, stdio: ["ignore", "pipe", "pipe"] });
    children.set(t.taskArn, child);
    Object.assign(t, { lastStatus: "RUNNING", startedAt: new Date(), pid: child.pid });
    const collect = (chunk: Buffer) => t.log.push(...chunk.toString("utf8").split("\n").filter((l) => l !== ""));
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    const exited = new Promise<void>((resolve) => {
      child.on("close", (code, signal) => {
        children.delete(t.taskArn);
        const exitCode = code ?? 128 + (SIGNALS[signal ?? "SIGKILL"] ?? 9);
        stop(t, exitCode, "Essential container in task exited", "EssentialContainerExited");
        resolve();
      });
      child.on("error", (e) => {
        t.log.push(`cannot start ${def.command[0]}: ${e.message}`);
        stop(t, 127, `CannotStartContainerError: ${e.message}`, "TaskFailedToStart");
        resolve();
      });
    });
    exits.add(exited);
    void exited.then(() => exits.delete(exited));
    opts.onTaskStarted?.(t);
  };

  const handlers: Record<string, (body: Record<string, any>) => unknown> = {
    RunTask(b) {
      if (nameOf(b.cluster ?? "default") !== cluster) throw new ApiError("ClusterNotFoundException", "Cluster not found.");
      const def = defs.get(nameOf(b.taskDefinition ?? ""));
      if (!def) throw new ApiError("ClientException", `Unable to find task definition '${b.taskDefinition}'.`);
      const count = b.count ?? 1;
      if (!Number.isInteger(count) || count < 1 || count > 10) throw new ApiError("InvalidParameterException", "count must be between 1 and 10.");
      if (b.overrides && JSON.stringify(b.overrides).length > 8192) throw new ApiError("InvalidParameterException", "Container Overrides length must be at most 8192");
      if (b.startedBy && String(b.startedBy).length > 36) throw new ApiError("InvalidParameterException", "startedBy must be at most 36 characters.");
      const override = (b.overrides?.containerOverrides ?? []) as { name?: string; environment?: { name: string; value: string }[] }[];
      for (const o of override) {
        if (o.name !== def.containerName) throw new ApiError("InvalidParameterException", `Override for container named ${o.name} is not a container in the TaskDefinition.`);
      }
      const started = [];
      for (let i = 0; i < count; i++) {
        const id = randomBytes(16).toString("hex");
        const taskArn = `arn:aws:ecs:${region}:${ACCOUNT}:task/${cluster}/${id}`;
        const environment: Record<string, string> = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: process.env.HOME ?? "/tmp",
          AWS_REGION: region,
          AWS_DEFAULT_REGION: region,
          ...def.environment,
          ...Object.fromEntries(override.flatMap((o) => o.environment ?? []).map((e) => [e.name, e.value])),
          ECS_CONTAINER_METADATA_URI_V4: `${endpoint}/v4/${id}`,
        };
        const t: LocalTask = {
          taskArn, family: def.family, lastStatus: "PROVISIONING", desiredStatus: "RUNNING", createdAt: new Date(),
          containerName: def.containerName, environment, log: [], ...(b.startedBy && { startedBy: String(b.startedBy) }),
        };
        tasks.set(taskArn, t);
        setTimeout(() => launch(t, def), opts.startDelayMs ?? 0);
        started.push(view(t));
      }
      return { tasks: started, failures: [] };
    },
    DescribeTasks(b) {
      const refs = (b.tasks ?? []) as string[];
      if (refs.length > 100) throw new ApiError("InvalidParameterException", "Tasks cannot have more than 100 elements.");
      const found = [], failures = [];
      for (const ref of refs) {
        const t = tasks.get(ref) ?? [...tasks.values()].find((x) => x.taskArn.endsWith(`/${ref}`));
        if (t) found.push(view(t));
        else failures.push({ arn: ref, reason: "MISSING" });
      }
      return { tasks: found, failures };
    },
    StopTask(b) {
      const t = tasks.get(b.task) ?? [...tasks.values()].find((x) => x.taskArn.endsWith(`/${b.task}`));
      if (!t) throw new ApiError("InvalidParameterException", "The referenced task was not found.");
      if (t.lastStatus !== "STOPPED") {
        t.desiredStatus = "STOPPED";
        t.stoppedReason = b.reason || "Task stopped by user";
        t.stopCode = "UserInitiated";
        const child = children.get(t.taskArn);
        if (child) {
          child.kill("SIGTERM");
          // Then SIGKILL after the container's stop timeout, 30 s by default on ECS.
          setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), opts.stopTimeoutMs ?? 30_000).unref();
        }
      }
      return { task: view(t) };
    },
    ListTasks(b) {
      const desired = b.desiredStatus ?? "RUNNING";
      const arns = [...tasks.values()]
        .filter((t) => t.desiredStatus === desired && (!b.startedBy || t.startedBy === b.startedBy) && (!b.family || t.family === b.family))
        .map((t) => t.taskArn);
      const from = Number(b.nextToken ?? 0), size = Math.min(100, b.maxResults ?? 100);
      const page = arns.slice(from, from + size);
      return { taskArns: page, ...(from + size < arns.length && { nextToken: String(from + size) }) };
    },
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const meta = /^\/v4\/([0-9a-f]+)\/task$/.exec(req.url ?? "");
      if (req.method === "GET" && meta) {
        const t = [...tasks.values()].find((x) => x.taskArn.endsWith(`/${meta[1]}`));
        if (!t) return send(res, 404, { message: "unknown task" });
        return send(res, 200, { Cluster: clusterArn, TaskARN: t.taskArn, Family: t.family, Revision: "1", DesiredStatus: t.desiredStatus, KnownStatus: t.lastStatus, LaunchType: "FARGATE" });
      }
      const target = String(req.headers["x-amz-target"] ?? "");
      const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : "";
      const handler = handlers[op];
      if (req.method !== "POST" || !handler) return send(res, 400, { __type: "UnknownOperationException", message: `not supported here: ${target || req.url}` });
      try {
        const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
        calls.push({ op, body });
        send(res, 200, handler(body));
      } catch (e) {
        const [type, message] = e instanceof ApiError ? [e.type, e.message] : ["ServerException", (e as Error).message];
        send(res, e instanceof ApiError ? 400 : 500, { __type: type, message }, { "x-amzn-errortype": type });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    endpoint,
    cluster,
    tasks: () => [...tasks.values()],
    calls: () => [...calls],
    kill(taskArn, reason = "OutOfMemoryError: Container killed due to memory usage") {
      const t = tasks.get(taskArn);
      const child = children.get(taskArn);
      if (!t || !child) return;
      t.stoppedReason = reason;
      t.stopCode = "EssentialContainerExited";
      child.kill("SIGKILL");
    },
    async close() {
      for (const t of tasks.values()) if (t.lastStatus === "PROVISIONING") t.desiredStatus = "STOPPED";
      for (const c of children.values()) c.kill("SIGKILL");
      await Promise.all([...exits]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
