import nodemailer, { type Transporter } from 'nodemailer';
import type { Mailer, OutgoingMail } from './port';

export interface SmtpMailerConfig {
  host: string;
  port: number;
  /** Sender address, e.g. `tenant-clone@example.com`. */
  from: string;
  /** TLS from the first byte (port 465 style); otherwise STARTTLS is used only if offered. */
  secure?: boolean;
  user?: string;
  password?: string;
}

// Deliberately plain: one address, no display name, no whitespace or angle brackets.
const ADDRESS = /^[^\s@<>",;]+@[^\s@<>",;]+$/;
const TIMEOUT_MS = 10_000;
const MESSAGE_ID = /^[^\s<>@]+@[^\s<>@]+$/;

function checkConfig(config: SmtpMailerConfig): void {
  if (config === null || typeof config !== 'object') throw new Error('SmtpMailer: config is required');
  if (typeof config.host !== 'string' || config.host.trim() === '' || /\s/.test(config.host)) {
    throw new Error(`SmtpMailer: invalid SMTP host '${String(config.host)}'`);
  }
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65535) {
    throw new Error(`SmtpMailer: invalid SMTP port '${String(config.port)}' (an integer 1-65535)`);
  }
  if (typeof config.from !== 'string' || !ADDRESS.test(config.from)) {
    throw new Error(`SmtpMailer: invalid sender address '${String(config.from)}'`);
  }
  if ((config.user === undefined) !== (config.password === undefined)) {
    throw new Error('SmtpMailer: SMTP user and password must be given together');
  }
}

/** Sends people's mail (welcome mail, requester notices) through an SMTP server with nodemailer. */
export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;
  private readonly endpoint: string;
  private readonly from: string;

  constructor(config: SmtpMailerConfig) {
    checkConfig(config);
    this.endpoint = `${config.host}:${config.port}`;
    this.from = config.from;
    this.transport = nodemailer.createTransport({
      host: config.host,
      port: config.port,
      secure: config.secure ?? false,
      auth: config.user !== undefined ? { user: config.user, pass: config.password } : undefined,
      connectionTimeout: TIMEOUT_MS,
      greetingTimeout: TIMEOUT_MS,
      socketTimeout: TIMEOUT_MS,
    });
  }

  async send(mail: OutgoingMail): Promise<{ messageId: string }> {
    if (mail === null || typeof mail !== 'object') throw new Error('SmtpMailer: mail is required');
    if (typeof mail.to !== 'string' || !ADDRESS.test(mail.to)) {
      throw new Error(`SmtpMailer: invalid recipient address '${String(mail.to)}'`);
    }
    if (typeof mail.subject !== 'string' || /[\r\n]/.test(mail.subject)) {
      throw new Error(`SmtpMailer: invalid subject ${JSON.stringify(mail.subject)} (one line of text)`);
    }
    if (typeof mail.text !== 'string') throw new Error(`SmtpMailer: mail text to '${mail.to}' must be a string`);
    if (mail.messageId !== undefined && !MESSAGE_ID.test(mail.messageId))
      throw new Error(`SmtpMailer: invalid Message-ID ${JSON.stringify(mail.messageId)} (left@right, no spaces or angle brackets)`);
    try {
      const info = await this.transport.sendMail({
        from: this.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.messageId ? { messageId: `<${mail.messageId}>` } : {}),
      });
      return { messageId: String(info.messageId) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`sending mail to '${mail.to}' via SMTP ${this.endpoint} failed: ${reason}`, { cause: err });
    }
  }

  close(): void {
    this.transport.close();
  }
}
