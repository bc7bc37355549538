/** The ECS API client, loaded on first use so runs that never touch ECS do not pay for the SDK. */
import type { ECSClient } from "@aws-sdk/client-ecs";
import { isLoopback, LOCAL_CREDENTIALS } from "../../store/s3-config.js";
import type { EcsSettings } from "./config.js";

export async function ecsClient(s: Pick<EcsSettings, "endpoint" | "region">): Promise<ECSClient> {
  const { ECSClient } = await import("@aws-sdk/client-ecs");
  // A loopback endpoint is the local ECS endpoint, which does not check signatures.
  const local = !!s.endpoint && isLoopback(s.endpoint) && !process.env.AWS_ACCESS_KEY_ID;
  return new ECSClient({
    ...(s.endpoint && { endpoint: s.endpoint }),
    region: s.region ?? (local ? "us-east-1" : undefined),
    ...(local && { credentials: LOCAL_CREDENTIALS }),
    // Adaptive retries add a client-side token bucket: RunTask's rate limits (20 calls/s) are respected
    // and ThrottlingException is absorbed rather than failing the run.
    maxAttempts: 8,
    retryMode: "adaptive",
  });
}
