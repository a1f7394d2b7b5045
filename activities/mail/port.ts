/** Outgoing mail to people: the test mailbox's welcome mail and the requester's notices. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  /**
   * The Message-ID header, without angle brackets. A resend after a crash carries the same one,
   * so a receiving server or client can drop the duplicate.
   */
  messageId?: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}
