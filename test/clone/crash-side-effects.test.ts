/**
 * A worker SIGKILLed while a step reaches people or partner apps: the welcome mail, the
 * requester's notice and each app's webhook arrive once, or (killed after the receiver took it
 * and before the worker heard so) again under the same Message-ID or eventId, on which the
 * receiver deduplicates (README, "Side effects and crashes"). A quick step killed mid-way is
 * picked up again within the heartbeat timeout, not at its start-to-close timeout.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { DEMO } from '../../stack/seed/demo-world';
import { startCloneStack, type CloneStack } from '../support/clone-stack';
import { scheduledFor } from '../support/history';
import { killed } from '../support/kill';
import type { CapturedMail } from '../support/smtp';

const WELCOME = 'acme-sandbox@mailinator.com';
const REQUESTER = 'ops@acme.example';
const APPS = ['app-erp-connector', 'app-mailchimp-sync'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crashes around side effects', { timeout: 15 * 60_000 }, () => {
  let stack: CloneStack;
  let worker: ChildProcess | null = null;
  /** When each replacement worker was started, to time how soon the clone went on. */
  const restarts: { stepId: string; at: number }[] = [];

  before(async () => {
    stack = await startCloneStack();
    await stack.stopWorker();
  });
  after(async () => {
    if (worker) await killed(worker);
    await stack?.stop();
  });

  /** Kill the worker once `moment` resolves, and start another 2 s later, as a fleet would. */
  const crashAt = async (stepId: string, moment: Promise<void>) => {
    await moment;
    await killed(worker!);
    await sleep(2000);
    worker = await stack.spawnWorker();
    restarts.push({ stepId, at: Date.now() });
  };

  const mailsTo = (to: string): CapturedMail[] => stack.smtp.messages.filter((m) => m.to.includes(to));

  /** When the step's activity finally completed, from the clone's history. */
  const completedAt = async (stepId: string): Promise<number> => {
    const events = (await stack.client.handle(DEMO.target).fetchHistory()).events ?? [];
    const [scheduled] = scheduledFor(events, stepId);
    assert.ok(scheduled, `${stepId} was scheduled`);
    const done = events.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(scheduled.eventId));
    assert.ok(done?.eventTime, `${stepId} completed`);
    const t = done.eventTime;
    return Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
  };

  test('killed before the welcome mail, while an app is failing, and after the requester took its notice', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    // The second app answers 503 three times: notify-apps is retried, and the worker is killed
    // between two attempts; the first app, already told, must not be told again.
    await stack.admin.failNextDeliveries(APPS[1]!, 3, 503);
    const welcomeHeld = stack.smtp.holdNext(WELCOME, 'before');
    const noticeHeld = stack.smtp.holdNext(REQUESTER, 'after');
    worker = await stack.spawnWorker();
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: REQUESTER });

    await crashAt('provision-mail', welcomeHeld);
    await crashAt(
      'notify-apps',
      (async () => {
        while (!(await stack.admin.deliveries(APPS[1])).some((d) => d.status === 503)) await sleep(20);
      })(),
    );
    await crashAt('notify-requester', noticeHeld);
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    // Held before delivery: the retry sent it, once.
    assert.equal(mailsTo(WELCOME).length, 1, 'welcome mails');
    // Each app has one accepted delivery; the first was not repeated by the retries.
    const deliveries = await stack.admin.deliveries();
    for (const app of APPS) {
      const ok = deliveries.filter((d) => d.appId === app && d.status === 200);
      assert.equal(ok.length, 1, `${app}: ${JSON.stringify(deliveries.map((d) => [d.appId, d.status]))}`);
      // Every try carried the same eventId.
      assert.equal(new Set(deliveries.filter((d) => d.appId === app).map((d) => JSON.parse(d.body).eventId)).size, 1);
    }
    assert.equal(deliveries.filter((d) => d.appId === APPS[0]).length, 1);
    // Taken by the receiver, never acknowledged: sent again (at least once), with one Message-ID.
    const notices = mailsTo(REQUESTER);
    assert.equal(notices.length, 2, 'the unacknowledged notice is sent again');
    assert.equal(new Set(notices.map((m) => m.messageId)).size, 1);
    assert.match(notices[0]!.messageId, /^<notify-requester\.[0-9a-f]+@tenant-clone>$/);
    await timeToResume('provision-mail');
  });

  test('killed after the welcome mail was taken, and before the requester notice', async () => {
    await stack.reseed({ taskDurationMs: 100 });
    stack.smtp.messages.length = 0;
    const welcomeHeld = stack.smtp.holdNext(WELCOME, 'after');
    const noticeHeld = stack.smtp.holdNext(REQUESTER, 'before');
    await stack.client.start({ source: DEMO.source, target: DEMO.target, requestedBy: REQUESTER });
    await crashAt('provision-mail', welcomeHeld);
    await crashAt('notify-requester', noticeHeld);
    const end = await stack.client.result(DEMO.target);
    assert.equal(end.outcome, 'done', JSON.stringify(end));

    const welcome = mailsTo(WELCOME);
    assert.equal(welcome.length, 2, 'the unacknowledged welcome mail is sent again');
    assert.equal(new Set(welcome.map((m) => m.messageId)).size, 1);
    assert.equal(mailsTo(REQUESTER).length, 1, 'requester notices');
    const deliveries = await stack.admin.deliveries();
    for (const app of APPS) assert.equal(deliveries.filter((d) => d.appId === app).length, 1, app);
    await timeToResume('provision-mail');
  });

  /**
   * A quick step killed mid-way completes soon after the new worker starts: the heartbeat
   * timeout (20 s) notices the lost attempt, not the 2-minute start-to-close timeout.
   */
  async function timeToResume(stepId: string): Promise<void> {
    const restart = restarts.filter((r) => r.stepId === stepId).at(-1)!;
    const seconds = ((await completedAt(stepId)) - restart.at) / 1000;
    console.log(`# ${stepId} completed ${seconds.toFixed(1)} s after the replacement worker started`);
    assert.ok(seconds < 30, `${stepId} completed ${seconds.toFixed(1)} s after the new worker started`);
  }
});
