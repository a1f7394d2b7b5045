import { SMTPServer } from 'smtp-server';
import type { AddressInfo } from 'node:net';
import { parseMessage } from './mime';

export interface CapturedMail {
  /** Envelope sender. */
  from: string;
  /** Envelope recipients. */
  to: string[];
  subject: string;
  /** The Message-ID header, angle brackets and all ('' when absent). */
  messageId: string;
  /** The plain-text body, decoded, with line ends as `\n` and no trailing line breaks. */
  text: string;
  raw: string;
}

export interface SmtpCapture {
  host: string;
  port: number;
  messages: CapturedMail[];
  waitFor(pred: (m: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  /**
   * Hold the next delivery to `recipient` at a moment of the SMTP dialogue, to crash a sender
   * there: `before` answers nothing to RCPT TO (the mail is not delivered), `after` keeps the
   * received mail but withholds the final "250 accepted" (the sender cannot know it arrived).
   * Resolves when the sender is held; the hold lasts until the sender goes away.
   */
  holdNext(recipient: string, at: 'before' | 'after'): Promise<void>;
  close(): Promise<void>;
}

interface Waiter {
  pred: (m: CapturedMail) => boolean;
  resolve: (m: CapturedMail) => void;
}

/** A real SMTP server on a free 127.0.0.1 port that keeps every message it receives. */
export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  let waiters: Waiter[] = [];
  const holds: { recipient: string; at: 'before' | 'after'; held: () => void }[] = [];
  const takeHold = (at: 'before' | 'after', recipients: string[]) => {
    const i = holds.findIndex((h) => h.at === at && recipients.includes(h.recipient));
    return i < 0 ? null : holds.splice(i, 1)[0]!;
  };

  const server = new SMTPServer({
    authOptional: true,
    // No TLS: a local capture only. Auth is accepted in clear so mailers configured with a user work.
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      const hold = takeHold('before', [address.address]);
      if (!hold) return callback();
      // Never answered: the sender is stuck before its mail is delivered.
      hold.held();
    },
    onAuth(auth, _session, callback) {
      callback(null, { user: auth.username ?? 'anonymous' });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const parsed = parseMessage(raw);
        const mail: CapturedMail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: parsed.headers.get('subject') ?? '',
          messageId: parsed.headers.get('message-id') ?? '',
          text: parsed.text,
          raw,
        };
        messages.push(mail);
        const matched = waiters.filter((w) => w.pred(mail));
        waiters = waiters.filter((w) => !matched.includes(w));
        for (const w of matched) w.resolve(mail);
        const hold = takeHold('after', mail.to);
        if (!hold) return callback();
        // Received and kept, never acknowledged.
        hold.held();
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A sender killed mid-dialogue (the crash tests do it) resets its connection: not an error of ours.
  server.on('error', () => undefined);
  const port = (server.server.address() as AddressInfo).port;

  return {
    host: '127.0.0.1',
    port,
    messages,
    waitFor(pred, timeoutMs = 5_000) {
      const already = messages.find(pred);
      if (already) return Promise.resolve(already);
      return new Promise<CapturedMail>((resolve, reject) => {
        const waiter: Waiter = {
          pred,
          resolve: (m) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          const seen = messages.map((m) => `'${m.subject}' to ${m.to.join(',')}`).join('; ') || 'none';
          reject(new Error(`no matching mail on SMTP 127.0.0.1:${port} within ${timeoutMs} ms (received: ${seen})`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    holdNext(recipient, at) {
      return new Promise<void>((held) => holds.push({ recipient, at, held }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
