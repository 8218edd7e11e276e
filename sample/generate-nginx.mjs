#!/usr/bin/env node
// Writes the nginx sample: two hosts' access logs in the combined format, with a logrotate history
// (access.log, access.log.1, access.log.2.gz). Deterministic: a seeded PRNG and fixed times.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { mulberry32 } from "../bench/gen/generate.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "nginx");
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const PATHS = ["/", "/index.html", "/api/v1/orders", "/api/v1/orders/42", "/static/app.js", "/login", "/healthz", "/search?q=logs"];
const AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/8.5.0", "Go-http-client/1.1", "kube-probe/1.30"];

/** `[10/Oct/2000:13:55:36 +0000]` style time for a ms timestamp (UTC). */
function timeLocal(ms) {
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, "0");
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

function lines(seed, count, startMs) {
  const r = mulberry32(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const out = [];
  let t = startMs;
  for (let i = 0; i < count; i++) {
    t += Math.floor(r() * 20_000);
    const ip = `10.${Math.floor(r() * 4)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`;
    const user = r() < 0.2 ? pick(["alice", "bob", "carol"]) : "-";
    const method = pick(["GET", "GET", "GET", "POST", "PUT", "DELETE"]);
    const status = pick([200, 200, 200, 201, 204, 301, 304, 404, 500]);
    const bytes = status === 204 || status === 304 ? 0 : Math.floor(r() * 50_000);
    const referer = r() < 0.5 ? "-" : "https://shop.example.com/";
    out.push(`${ip} - ${user} [${timeLocal(t)}] "${method} ${pick(PATHS)} HTTP/1.1" ${status} ${bytes} "${referer}" "${pick(AGENTS)}"`);
  }
  return out.join("\n") + "\n";
}

rmSync(root, { recursive: true, force: true });
const day = Date.parse("2024-03-01T00:00:00Z");
const files = [
  ["web1/access.log.2.gz", 1, 300, day],
  ["web1/access.log.1", 2, 300, day + 86_400_000],
  ["web1/access.log", 3, 300, day + 2 * 86_400_000],
  ["web2/access.log.1", 4, 250, day + 86_400_000],
  ["web2/access.log", 5, 250, day + 2 * 86_400_000],
];
for (const [rel, seed, count, start] of files) {
  const path = join(root, rel);
  mkdirSync(dirname(path), { recursive: true });
  const text = lines(seed, count, start);
  writeFileSync(path, rel.endsWith(".gz") ? gzipSync(text) : text);
}
// An error log beside them, which the default layout must leave alone.
writeFileSync(join(root, "web1", "error.log"), "2024/03/01 00:00:01 [error] 7#7: *1 open() failed\n");
console.log(`nginx sample: ${files.length} access logs, ${files.reduce((n, f) => n + f[2], 0)} lines → ${root}`);
