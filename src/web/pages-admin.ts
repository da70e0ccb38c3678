import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { bucketRange } from "../http/routes/admin-stats.ts";
import { countEventsByBucket, countUsers, topSourceIps, topTargetedAccounts } from "../store/index.ts";
import { barChart, bucketLabel, periodWords, type ChartBucket } from "./charts.ts";
import { adminClientPages } from "./pages-admin-clients.ts";
import { adminEventPages } from "./pages-admin-events.ts";
import { adminLifecyclePages } from "./pages-admin-lifecycle.ts";
import { adminUserPages } from "./pages-admin-users.ts";
import { param } from "./pages-admin-view.ts";
import type { WebDeps } from "./plugin.ts";
import { pageSession, renderPage, viewerOf } from "./render.ts";

const HOUR_MS = 3_600_000;
/** The windows the dashboard offers, in the order of its select. */
const DASHBOARD_WINDOWS: Readonly<Record<string, { readonly ms: number; readonly label: string }>> = {
  "24h": { ms: 24 * HOUR_MS, label: "Last 24 hours" },
  "7d": { ms: 7 * 24 * HOUR_MS, label: "Last 7 days" },
};
const TOP_LIMIT = 10;
const FAILURE_COLOR = "#a4161a";
const LOCKOUT_COLOR = "#8a4b00";

/**
 * onRequest hook of every console page: no session → the sign-in page; a signed-in user who
 * is not an admin → a 403 page. Runs before the body is parsed, like the API's guard, and
 * leaves the admin's session in `request.session` for the handlers (and `adminActor`).
 */
function requireAdminPage(deps: WebDeps) {
  return async function (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const session = await pageSession(deps.auth, request);
    if (session === null) return reply.redirect("/login", 303);
    request.session = session;
    if (session.user.role === "admin") return undefined;
    await renderPage(reply, "admin-message", {
      title: "Administrators only", viewer: viewerOf(session), tone: "error",
      message: "This page is for administrators. You are signed in with an account that is not an admin.",
    }, 403);
    return reply;
  };
}

/**
 * The admin console: `/admin` (dashboard), `/admin/users`, `/admin/users/:id` with the
 * Unlock / Enable / Disable forms, and `/admin/events`. Server-rendered, no JavaScript.
 *
 * @example await app.register(adminPages, { config, auth });
 */
export async function adminPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const { auth } = deps;
  app.addHook("onRequest", requireAdminPage(deps));
  // helmet's app-wide `Referrer-Policy: no-referrer` makes Chromium send `Origin: null` on a
  // same-origin form POST, which the CSRF check (rightly) cannot tell from a cross-site one.
  // Console URLs carry no secrets, so its pages ask for the real origin on their own forms.
  app.addHook("onSend", async (_request, reply, payload) => {
    reply.header("referrer-policy", "same-origin");
    return payload;
  });

  app.get("/admin", { schema: { hide: true } }, async (request, reply) => {
    const requested = param(request.query, "window");
    const windowName = Object.hasOwn(DASHBOARD_WINDOWS, requested) ? requested : "24h";
    const chosen = DASHBOARD_WINDOWS[windowName] ?? { ms: 24 * HOUR_MS, label: "Last 24 hours" };
    const now = auth.now();
    const range = bucketRange(chosen.ms, now);
    const db = auth.database.db;
    const [counted, users, targeted, sources] = await Promise.all([
      countEventsByBucket(db, range), countUsers(db, now),
      topTargetedAccounts(db, range, TOP_LIMIT), topSourceIps(db, range, TOP_LIMIT),
    ]);
    const byIndex = new Map(counted.map((bucket) => [bucket.index, bucket]));
    const starts = Array.from({ length: range.count }, (_, index) => range.from + index * range.bucketMs);
    const failures: ChartBucket[] = starts.map((start, index) => ({ start, value: byIndex.get(index)?.failures ?? 0 }));
    const lockouts: ChartBucket[] = starts.map((start, index) => ({ start, value: byIndex.get(index)?.lockouts ?? 0 }));
    const period = periodWords(range.bucketMs);
    return renderPage(reply, "admin-dashboard", {
      title: "Console", viewer: viewerOf(request.session), wide: true,
      windows: Object.entries(DASHBOARD_WINDOWS).map(([value, w]) => ({ value, label: w.label, selected: value === windowName })),
      windowLabel: chosen.label.toLowerCase(),
      period,
      counts: users,
      totals: {
        failures: failures.reduce((sum, b) => sum + b.value, 0),
        lockouts: lockouts.reduce((sum, b) => sum + b.value, 0),
      },
      failuresChart: barChart({
        id: "failures-chart", title: `Failed logins per ${period} period, ${chosen.label.toLowerCase()}`,
        unit: ["failed login", "failed logins"], buckets: failures, bucketMs: range.bucketMs, color: FAILURE_COLOR,
      }),
      lockoutsChart: barChart({
        id: "lockouts-chart", title: `Lockouts per ${period} period, ${chosen.label.toLowerCase()}`,
        unit: ["lockout", "lockouts"], buckets: lockouts, bucketMs: range.bucketMs, color: LOCKOUT_COLOR,
      }),
      rows: starts.map((start, index) => ({
        label: bucketLabel(start), failures: failures[index]?.value ?? 0, lockouts: lockouts[index]?.value ?? 0,
      })).filter((row) => row.failures > 0 || row.lockouts > 0),
      targeted,
      sources,
    });
  });

  await app.register(adminUserPages, deps);
  await app.register(adminLifecyclePages, deps);
  await app.register(adminEventPages, deps);
  await app.register(adminClientPages, deps);
}
