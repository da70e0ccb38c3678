#!/usr/bin/env node
// Thin launcher. In the repository, Node >= 24 runs the TypeScript CLI directly (type
// stripping); an installed package has no src/ (and Node strips no types under node_modules),
// so it runs the JavaScript that tsc emitted into dist/ at pack time.
import { existsSync } from "node:fs";
import { enableCompileCache } from "node:module";
import { reexecWithServerFlags } from "./server-flags.js";

if (process.argv[2] === "serve") reexecWithServerFlags();

// Node's on-disk compile cache (in the OS temp directory) keeps the type-stripped and compiled
// modules, so a second start neither loads the TypeScript stripper nor strips again: about
// 20 MB less resident memory for the server's whole life, and a faster start.
enableCompileCache();

const source = new URL("../src/cli/main.ts", import.meta.url);
const { main } = await import(existsSync(source) ? source.href : new URL("../dist/cli/main.js", import.meta.url).href);

process.exitCode = await main(process.argv.slice(2));
