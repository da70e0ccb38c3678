/**
 * `npm run build` (also `prepack`): the JavaScript and `.d.ts` files of the published package
 * in dist/, emitted by tsc from src/ (Node does not strip types under node_modules), plus the
 * templates and assets the server reads beside its modules.
 */
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const src = join(root, "src");
const dist = join(root, "dist");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });

for (const file of files(src)) {
  if (!file.endsWith(".ts")) cpSync(file, join(dist, relative(src, file)));
}
// tsc rewrites `.ts` specifiers in the JavaScript it emits, not in declarations.
for (const file of files(dist)) {
  if (!file.endsWith(".d.ts")) continue;
  const text = readFileSync(file, "utf8");
  const rewritten = text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2");
  if (rewritten !== text) writeFileSync(file, rewritten);
}
