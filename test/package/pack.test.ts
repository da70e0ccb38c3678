/**
 * The package as a consumer gets it: `npm pack` (which runs `prepack`: tsc emits dist/), the
 * tarball unpacked into a fresh app's node_modules as npm would, its declared dependencies
 * linked from this checkout's node_modules (offline: no registry needed), then the app runs —
 * an ESM import, a type check with tsc (skipLibCheck off), sign-ins through the lockout — and
 * the installed `deadbolt` bin runs the emitted JavaScript.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NPM = process.platform === "win32" ? "npm.cmd" : "npm";

const APP = `
import { createLockout, LockoutUsageError } from "deadbolt";

const users = new Map([["ada", "right password"]]);
const lockout = createLockout({ databaseUrl: process.env.APP_DATABASE_URL, policy: { threshold: 2 } });
let cookie = null;
const signIn = (account, password, deviceToken = null) => lockout.attempt({
  account, verify: async () => users.get(account) === password, client: { ip: "192.0.2.1", userAgent: "packed-app", deviceToken },
  onDeviceToken: (token) => { cookie = token; },
});
const outcomes = [
  await signIn("ada", "right password"),
  await signIn("ada", "typo"),
  await signIn("ada", "typo"),
  await signIn("ada", "right password"),
  // Her trusted browser is not locked out by the guesses.
  await signIn("ada", "right password", cookie),
];
const status = await lockout.status("ada");
let misuse = null;
try { createLockout({ databaseUrl: "sqlite::memory:", policy: { threshold: -1 } }); } catch (error) {
  misuse = error instanceof LockoutUsageError ? error.message : String(error);
}
await lockout.close();
console.log(JSON.stringify({ outcomes, status: status.status, lockedUntil: status.lockedUntil instanceof Date, misuse }));
`;

const TYPED = `
import { createLockout, type AttemptOutcome, type Lockout, type LockoutStatus } from "deadbolt";

const lockout: Lockout = createLockout({ databaseUrl: "sqlite::memory:", policy: { threshold: 3, durationMs: 60_000 } });
export async function check(password: string): Promise<AttemptOutcome> {
  const outcome = await lockout.attempt({ account: "ada", verify: () => password === "x" });
  const status: LockoutStatus = await lockout.status("ada");
  const until: Date | null = status.lockedUntil;
  void until;
  return outcome;
}
export async function withDevice(deviceToken: string | undefined, keep: (token: string) => void): Promise<number> {
  await lockout.attempt({ account: "ada", verify: () => true, client: { deviceToken }, onDeviceToken: keep });
  return lockout.forgetDevices("ada", { by: "password_reset", keepDeviceToken: deviceToken });
}
// The types are real, not any: each of these must fail to compile.
// @ts-expect-error durations are milliseconds, not strings
createLockout({ databaseUrl: "sqlite::memory:", policy: { durationMs: "15m" } });
// @ts-expect-error verify returns a boolean
void lockout.attempt({ account: "ada", verify: () => "yes" });
// @ts-expect-error forgetting devices says who did it
void lockout.forgetDevices("ada", { by: "someone" });
// @ts-expect-error the outcome is one of three words
const wrong: "locked" = await check("x");
void wrong;
`;

describe("the packed package, installed into a fresh app", () => {
  let dir: string;
  let app: string;
  let installed: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "deadbolt-pack-"));
    const packed = JSON.parse(execFileSync(NPM, ["pack", "--pack-destination", dir, "--json"], {
      cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"],
    })) as { filename: string }[];
    const tarball = join(dir, packed[0]?.filename ?? "missing.tgz");
    app = join(dir, "app");
    installed = join(app, "node_modules", "deadbolt");
    mkdirSync(installed, { recursive: true });
    execFileSync("tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
    // Only what the package declares (plus the app's own type tools): a dependency missing from
    // package.json fails here instead of being found in this checkout.
    const manifest = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { dependencies: Record<string, string> };
    for (const name of [...Object.keys(manifest.dependencies), "@types/node"]) {
      const link = join(app, "node_modules", name);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", name), link, "dir");
    }
    mkdirSync(join(app, "node_modules", ".bin"));
    symlinkSync("../deadbolt/bin/deadbolt.js", join(app, "node_modules", ".bin", "deadbolt"));
    writeFileSync(join(app, "app.mjs"), APP);
    writeFileSync(join(app, "typed.ts"), TYPED);
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "es2024", module: "nodenext", moduleResolution: "nodenext", strict: true, noEmit: true,
        skipLibCheck: false, types: ["node"],
      },
      files: ["typed.ts"],
    }));
  }, 300_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("ships emitted JavaScript with declarations, the bin and no TypeScript sources", () => {
    expect(existsSync(join(installed, "dist", "index.js"))).toBe(true);
    expect(existsSync(join(installed, "dist", "index.d.ts"))).toBe(true);
    expect(existsSync(join(installed, "dist", "web", "views", "login.eta")), "templates beside the modules").toBe(true);
    expect(existsSync(join(installed, "src")), "no sources: Node strips no types under node_modules").toBe(false);
    expect(readFileSync(join(installed, "dist", "library", "lockout.js"), "utf8")).not.toMatch(/from "\.{1,2}\/[^"]+\.ts"/);
  });

  it("imports as ESM and signs in through the lockout: verified, failed, locked, refused, verified on the trusted device", () => {
    const result = spawnSync(process.execPath, ["app.mjs"], {
      cwd: app, encoding: "utf8", env: { ...process.env, APP_DATABASE_URL: `sqlite:${join(app, "app.db")}` },
    });
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      outcomes: ["verified", "failed", "failed", "refused", "verified"],
      status: "locked",
      lockedUntil: true,
      misuse: expect.stringMatching(/policy\.threshold must be a whole number/),
    });
  });

  it("type-checks a consumer with tsc (no skipLibCheck)", () => {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", app], { cwd: app, encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  }, 120_000);

  it("runs the installed deadbolt bin from the emitted JavaScript", () => {
    const env = { ...process.env, DEADBOLT_DATABASE_URL: `sqlite:${join(app, "service.db")}` };
    const bin = join(app, "node_modules", ".bin", "deadbolt");
    const created = spawnSync(process.execPath, [bin, "user", "create", "ops@example.com", "--password-stdin", "--json"], {
      cwd: app, encoding: "utf8", env, input: "a long passphrase\n",
    });
    expect(created.stderr).toBe("");
    expect(JSON.parse(created.stdout)).toMatchObject({ email: "ops@example.com", status: "active" });
    const help = spawnSync(process.execPath, [bin, "--help"], { cwd: app, encoding: "utf8", env });
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/user import <file\.jsonl>/);
  });
});
