/**
 * `npm install` (prepare): fills Node's compile cache with every module of src/, as
 * bin/deadbolt.js reads it. Without it the very first `npm start` after a clone strips the
 * TypeScript itself, and the stripper (a WebAssembly module whose memory is never returned)
 * stays resident for the server's whole life: about 18 MB (128 MB idle instead of 110 MB).
 * Importing a module here runs nothing but its top level, which in src/ only defines things.
 */
import { readdirSync } from "node:fs";
import { enableCompileCache, flushCompileCache } from "node:module";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const src = fileURLToPath(new URL("../src/", import.meta.url));
enableCompileCache();
const modules = readdirSync(src, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
  .map((entry) => join(entry.parentPath, entry.name));
let failed = 0;
for (const path of modules) {
  try {
    await import(pathToFileURL(path).href);
  } catch (error) {
    // A cold cache only costs memory and start-up time; installing must never fail for it.
    failed += 1;
    if (process.env.DEADBOLT_WARM_VERBOSE) console.error(`warm-compile-cache: ${path}: ${String(error)}`);
  }
}
flushCompileCache();
if (failed > 0) console.error(`warm-compile-cache: ${failed} of ${modules.length} modules could not be loaded (the first start compiles them)`);
