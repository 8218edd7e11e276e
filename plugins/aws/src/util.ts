import { isIP } from "node:net";

/** True for an IPv4 or IPv6 address (CloudTrail also puts service names such as "s3.amazonaws.com" in IP fields). */
export function isIp(value: string): boolean {
  return isIP(value) !== 0;
}

/** The distinct non-empty strings among values, in first-seen order. */
export function uniqueStrings(values: unknown[]): string[] {
  const out: string[] = [];
  for (const v of values) if (typeof v === "string" && v.length > 0 && !out.includes(v)) out.push(v);
  return out;
}
