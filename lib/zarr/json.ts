/**
 * JSON for Zarr metadata. JSON.stringify cannot write a 64-bit integer exactly (bigint throws) nor
 * the bare `NaN`/`Infinity` tokens that zarr-python 2 writes and reads in `.zattrs`, so such values
 * are first replaced by unique sentinel strings and then spliced back in as raw tokens.
 */
import { randomBytes } from "node:crypto";
import { JsonFloat } from "./attrs.js";

export type NonFiniteStyle = "token" | "string";

export function encodeJson(value: unknown, nonFinite: NonFiniteStyle = "string"): string {
  const tag = `\u0000${randomBytes(6).toString("hex")}:`;
  const text = JSON.stringify(
    value,
    (_k, v: unknown) => {
      if (typeof v === "bigint") return `${tag}${v.toString()}`;
      if (v instanceof JsonFloat) return `${tag}${Math.abs(v.value) < 1e21 ? v.value.toFixed(1) : String(v.value)}`;
      if (typeof v === "number" && !Number.isFinite(v)) {
        const t = Number.isNaN(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity";
        return nonFinite === "token" ? `${tag}${t}` : t;
      }
      return v;
    },
    2,
  ) ?? "null"; // JSON.stringify(undefined) is undefined
  const quoted = JSON.stringify(tag).slice(1, -1);
  const spliced = text.replace(new RegExp(`"${quoted.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}([^"]*)"`, "g"), "$1");
  // ASCII-only, like zarr-python's own writer: zarr-python 2 decodes some documents as ASCII.
  return spliced.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function jsonBytes(value: unknown, nonFinite: NonFiniteStyle = "string"): Uint8Array {
  return new TextEncoder().encode(encodeJson(value, nonFinite));
}

/** Our own bookkeeping documents (run manifests, claims, statuses) back from their bytes: plain JSON. */
export function fromJsonBytes<T>(bytes: Uint8Array): T {
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/**
 * Parses Zarr metadata the way zarr-python does: bare NaN/Infinity accepted (read as numbers) and
 * integers beyond 2^53 kept exact as bigint. With `keepFloats`, integral numbers written as floats
 * ("300.0", "1e+300") come back as JsonFloat, so re-encoding a document reproduces it exactly.
 */
export function parseJson(text: string, opts: { keepFloats?: boolean } = {}): unknown {
  const tag = `\u0000${randomBytes(6).toString("hex")}:`;
  // Outside strings, rewrite bare NaN/Infinity and long integers into tagged strings.
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    // Whole tokens only, so digits after a decimal point are never mistaken for an integer.
    const m = /^(?:-?Infinity|NaN|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 64));
    if (m && (c === "-" || c === "N" || c === "I" || (c >= "0" && c <= "9"))) {
      const tok = m[0];
      const bigInt = /^-?\d{16,}$/.test(tok);
      const floatForm = opts.keepFloats && /[.eE]/.test(tok) && Number.isInteger(Number(tok));
      out += bigInt || floatForm || /NaN|Infinity/.test(tok) ? JSON.stringify(tag + tok) : tok;
      i += tok.length;
      continue;
    }
    out += c;
    i++;
  }
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v !== "string" || !v.startsWith(tag)) return v;
    const raw = v.slice(tag.length);
    if (raw === "NaN") return NaN;
    if (raw.endsWith("Infinity")) return raw.startsWith("-") ? -Infinity : Infinity;
    if (/[.eE]/.test(raw)) return new JsonFloat(Number(raw));
    const big = BigInt(raw);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  });
}
