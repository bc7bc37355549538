/**
 * The notebook instance's lifecycle scripts: the shellchecked files in kernel/sagemaker/, with the
 * stack's values put in at deploy time, base64-encoded as SageMaker wants them. SageMaker refuses a
 * hook over 16,384 characters, so that limit is checked at synth, with room for the values.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Fn } from "aws-cdk-lib";

/** SageMaker's limit on one lifecycle hook's base64 content. */
export const LIFECYCLE_MAX_CHARS = 16384;
/** Room left for values known only at deploy (the stack config JSON, the asset URL). */
const TOKEN_ALLOWANCE = 3000;

export function lifecycleScript(repoRoot: string, name: "on-create.sh" | "on-start.sh", values: Record<string, string>): string {
  const script = readFileSync(join(repoRoot, "kernel", "sagemaker", name), "utf8");
  let text = script, literal = script;
  for (const [placeholder, value] of Object.entries(values)) {
    if (!script.includes(placeholder)) throw new Error(`kernel/sagemaker/${name} has no ${placeholder}`);
    text = text.split(placeholder).join(value);
    literal = literal.split(placeholder).join("");
  }
  const size = Math.ceil((Buffer.byteLength(literal) + TOKEN_ALLOWANCE) / 3) * 4;
  if (size > LIFECYCLE_MAX_CHARS) {
    throw new Error(`kernel/sagemaker/${name}: ~${size} base64 characters with its values, over SageMaker's ${LIFECYCLE_MAX_CHARS}`);
  }
  return Fn.base64(text);
}
