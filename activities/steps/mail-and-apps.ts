/** Steps that reach people or partner apps: the test mailbox, app webhooks, the requester. */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { postSignedWebhook, WebhookRejectedError } from '../platform/webhook';
import { defineSteps } from './support';
import type { Archives } from '../archive/port';
import type { CrossSystemDeps } from './deps';
import { SentMarks } from './sent-marks';

export function mailAndAppActivities({ databases, mailService, partnerApps, mailer, webhookSecret, archives }: CrossSystemDeps & { archives: Archives }) {
  return defineSteps(databases, {
    async provisionMail({ db, facts: { targetDatabase, testMailbox }, stepId, request }) {
      const { target, source } = request;
      const before = await mailService.listMailboxes(target);
      await mailService.replaceMailboxes(target, testMailbox);
      await db.replaceMailboxes(targetDatabase, testMailbox);
      // Whether the welcome mail went out is its mark's to say, not the mailbox's: a crash
      // between provisioning and sending must still end with the mail sent.
      const sent = await new SentMarks(archives, stepId).once(`welcome:${testMailbox}`, (messageId) =>
        mailer
          .send({
            to: testMailbox,
            subject: `Welcome to ${target}, a copy of ${source}`,
            text:
              `This is the only mailbox of ${target}. Every e-mail address in this copy of ${source} ` +
              `has been rewritten to @${request.mailDomain}, so mail sent from it reaches no real person.`,
            messageId,
          })
          .then(() => undefined),
      );
      return { note: `${before.length} mailboxes replaced by ${testMailbox}; welcome mail ${sent ? 'sent' : 'sent by an earlier attempt'}` };
    },

    async notifyApps({ db, facts: { targetDatabase }, stepId, request }) {
      const { target, source } = request;
      const auths = await db.readAppAuthorizations(targetDatabase);
      if (auths.length === 0) return { note: 'no apps are authorized on the target' };
      const run = Context.current().info.workflowExecution;
      const cloneRun = run ? `${run.workflowId}/${run.runId}` : 'outside-a-workflow';
      const marks = new SentMarks(archives, stepId);
      const notified: string[] = [];
      const earlier: string[] = [];
      const unknown: string[] = [];
      for (const auth of auths) {
        const app = await partnerApps.getApp(auth.appId);
        if (!app) {
          unknown.push(auth.appId);
          continue;
        }
        // eventId is stable across retries so an app can drop a duplicate delivery.
        const event = { event: 'BackupRestored', eventId: `${cloneRun}/${auth.appId}`, tenant: target, source, state: 'BackupRestored' };
        // An attempt retried (after a crash, or an app failing further on) skips the apps already told.
        const sent = await marks.once(`webhook:${auth.appId}`, async () => {
          try {
            await postSignedWebhook(app.webhookUrl, event, webhookSecret);
          } catch (err) {
            if (err instanceof WebhookRejectedError && err.permanent) {
              throw ApplicationFailure.nonRetryable(`${app.name} rejected the BackupRestored notification: ${err.message}`, 'WebhookRejected');
            }
            throw err;
          }
        });
        (sent ? notified : earlier).push(app.name);
      }
      const parts = [`notified ${notified.join(', ') || 'no app'}`];
      if (earlier.length) parts.push(`notified by an earlier attempt: ${earlier.join(', ')}`);
      if (unknown.length) parts.push(`unknown to the app registry: ${unknown.join(', ')}`);
      return { note: parts.join('; ') };
    },

    async notifyRequester({ stepId, request, ending }) {
      const to = request.requestedBy;
      if (!to) return { skipped: 'no requester address was given' };
      const outcome = ending?.outcome ?? 'unknown';
      const { source, target, plan } = request;
      const lines = [
        `Clone ${source} → ${target} (${plan}): ${outcome}.`,
        ending?.message ?? '',
        '',
        ...(ending?.steps ?? []).map((st) => `${st.status.padEnd(12)} ${st.id}`),
      ];
      const sent = await new SentMarks(archives, stepId).once(`requester:${to}`, (messageId) =>
        mailer.send({ to, subject: `Clone ${source} → ${target}: ${outcome}`, text: lines.join('\n'), messageId }).then(() => undefined),
      );
      return { note: sent ? `told ${to}` : `${to} was told by an earlier attempt` };
    },
  });
}
