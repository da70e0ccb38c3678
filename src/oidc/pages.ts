import type { KoaContextLike } from "oidc-provider";

/** The provider's own pages (errors, logout), in deadbolt's look; every value is escaped. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · deadbolt</title><link rel="stylesheet" href="/assets/app.css"></head>
<body><header class="top"><a class="brand" href="/">deadbolt</a></header>
<main id="main"><h1>${escapeHtml(title)}</h1><div class="panel">${body}</div></main></body></html>`;
}

interface ErrorOut {
  readonly error?: string;
  readonly error_description?: string;
}

/** Shown when the provider cannot send the error back to the app (unknown client, bad redirect URI). */
export async function errorPage(ctx: KoaContextLike, out: ErrorOut): Promise<void> {
  ctx.type = "html";
  ctx.body = page("Sign-in request refused", `<div class="notice error" role="alert"><p><strong>${escapeHtml(out.error ?? "error")}</strong></p>
<p>${escapeHtml(out.error_description ?? "The application sent an invalid sign-in request.")}</p></div>
<p>Go back to the application and try again. If this keeps happening, tell its administrator.</p>`);
}

/** RP-initiated logout asks before signing out, so a link alone cannot sign anyone out. */
export async function logoutPage(ctx: KoaContextLike, form: string): Promise<void> {
  ctx.type = "html";
  ctx.body = page("Sign out", `${form}<p>Do you want to sign out of deadbolt?</p>
<div class="actions"><button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button></div>`);
}

export async function loggedOutPage(ctx: KoaContextLike): Promise<void> {
  const name = ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
  ctx.type = "html";
  ctx.body = page("Signed out", `<p>You are signed out${name ? ` of ${escapeHtml(name)}` : ""}.</p>`);
}
