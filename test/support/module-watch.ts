/**
 * `node --import ./test/support/module-watch.ts …`: writes `module-watch: <url>` on stderr
 * whenever the process loads a module whose URL contains MODULE_WATCH (comma-separated
 * parts), so a test can tell what a real server process loaded, and when.
 */
import { registerHooks } from "node:module";

const parts = (process.env.MODULE_WATCH ?? "").split(",").filter((part) => part !== "");

registerHooks({
  load(url, context, nextLoad) {
    if (parts.some((part) => url.includes(part))) process.stderr.write(`module-watch: ${url}\n`);
    return nextLoad(url, context);
  },
});
