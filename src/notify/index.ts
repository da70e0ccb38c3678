export type { Dispatcher, DispatcherOptions, DispatcherOwner } from "./dispatcher.ts";
export { LEASE_MS, MAX_ATTEMPTS, retryDelay, startDispatcher } from "./dispatcher.ts";
export { isTokenShaped, RESET_TOKEN_TTL_MS, UNLOCK_TOKEN_MAX_TTL_MS } from "./links.ts";
export type { ChangeActor, EffectNoticeContext, NoticeClient, NoticeSubject } from "./notices.ts";
export {
  effectNotices, mfaChangedNotice, newDeviceNotice, passwordChangedNotice, recoveryCodeNotice, resetNotice, restoredNotice,
} from "./notices.ts";
export type { RedeemResetResult, RedeemUnlockResult } from "./recovery.ts";
export { isUsableToken, redeemResetToken, redeemUnlockToken, requestPasswordReset } from "./recovery.ts";
export type { MailLinks, RenderedMail, RenderInput } from "./render.ts";
export { renderMail } from "./render.ts";
export type { OutboxSignal } from "./signal.ts";
export { createOutboxSignal } from "./signal.ts";
export type { Mail, MailTransport } from "./transport.ts";
export { createTransport, logTransport, smtpTransport } from "./transport.ts";
