import { createRequire } from "node:module";
import type Nodemailer from "nodemailer";
import type { Logger } from "../auth/context.ts";

/** One rendered security e-mail. */
export interface Mail {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  /** Derived from the outbox dedupe key, so a resend after a crash carries the same id. */
  readonly messageId: string;
}

/** The narrow mailer the dispatcher needs; tests and the log fallback implement it too. */
export interface MailTransport {
  /** Resolves once the server accepted the message; rejects with the reason otherwise. */
  send(mail: Mail): Promise<void>;
  close(): void;
  /** True when mails are only written to the log (no DEADBOLT_SMTP_URL): events say so. */
  readonly logsOnly?: boolean;
}

/** Short enough that a dead server fails an attempt well within a dispatcher's lease. */
const SMTP_TIMEOUTS = Object.freeze({ connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });

/**
 * Sends through DEADBOLT_SMTP_URL (`smtp://user:pass@host:587`, `smtps://…:465`).
 *
 * @example const transport = smtpTransport("smtp://127.0.0.1:2525");
 */
export function smtpTransport(url: string): MailTransport {
  // nodemailer (40 modules) is loaded only when DEADBOLT_SMTP_URL is set.
  const nodemailer = createRequire(import.meta.url)("nodemailer") as typeof Nodemailer;
  const transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
  return {
    async send(mail) {
      await transporter.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
        // RFC 3834: no vacation auto-replies to security notices.
        headers: { "Auto-Submitted": "auto-generated" },
      });
    },
    close: () => transporter.close(),
  };
}

/**
 * Without DEADBOLT_SMTP_URL every mail is written to the log at info level, links included,
 * so someone running deadbolt locally can follow an unlock or reset link.
 */
export function logTransport(log: Logger): MailTransport {
  return {
    async send(mail) {
      log.info({ mail: { to: mail.to, from: mail.from, subject: mail.subject, messageId: mail.messageId, text: mail.text } },
        `e-mail to ${mail.to} (DEADBOLT_SMTP_URL is not set, so it is only logged): ${mail.subject}\n\n${mail.text}`);
    },
    close() {},
    logsOnly: true,
  };
}

/** The transport the configuration asks for. */
export function createTransport(settings: { readonly smtpUrl: string | null }, log: Logger): MailTransport {
  return settings.smtpUrl === null ? logTransport(log) : smtpTransport(settings.smtpUrl);
}
