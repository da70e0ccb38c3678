#!/usr/bin/env node
// Thin launcher: Node >= 24 runs the TypeScript CLI directly (type stripping).
import { main } from "../src/cli/main.ts";

process.exitCode = await main(process.argv.slice(2));
