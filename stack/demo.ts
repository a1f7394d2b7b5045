/**
 * `npm run demo`: start the local stack, seed the demo world, clone acme into acme-sandbox with
 * live progress, then check the result on the real services and print a ✔/✘ line per check.
 * Exit code 0 only when the clone succeeded and every check passed.
 *
 *   DEMO_PERSONS=20000   persons in acme's database
 *   --down / DEMO_DOWN=1 stop the stack at the end instead of leaving it up for exploring
 */
import { testSerial } from '../activities/steps/tenant-identity';
import { tenantDatabaseName } from '../activities/database/postgres/engine';
import { watchClone } from '../client/cli/watch';
import type { FinalOutcome } from '../client';
import { cloneWorkflowId } from '../workflows/request';
import { intFromEnv, onStopSignals, startLocalStack, StackError, type LocalStack } from './local-stack';
import { DEMO } from './seed/demo-world';

const REQUESTED_BY = 'ops@acme.example';
const MAIL_DOMAIN = 'mailinator.com';
const DOCUMENTS = 40;

interface MaildevMail {
  subject: string;
  to: { address: string }[];
  time?: string;
  date?: string;
}

let stack: LocalStack | null = null;
let exitCode = 1;
let stopRequested = false;

async function shutdown(code: number): Promise<never> {
  if (stack) {
    console.log('Stopping the stack…');
    await stack.stop();
  }
  process.exit(code);
}

async function main(): Promise<void> {
  const down = process.argv.includes('--down') || process.env.DEMO_DOWN === '1';
  const persons = intFromEnv(process.env, 'DEMO_PERSONS', 20_000);
  onStopSignals((signal) => {
    stopRequested = true;
    console.log(`\n${signal}: stopping…`);
    if (stack) void shutdown(exitCode);
  });

  console.log('Starting the local stack…');
  stack = await startLocalStack();
  if (stopRequested) await shutdown(130);
  const s = stack;

  const seedStart = Date.now();
  console.log(`\nSeeding the demo world: ${DEMO.source} with ${persons} persons, ${DOCUMENTS} documents per archive…`);
  await s.seedDemo({ persons, documents: DOCUMENTS });
  console.log(`  seeded in ${seconds(seedStart)}`);

  // What the target must look like afterwards, read from the platform before the clone.
  const targetBefore = await s.admin.state(DEMO.target);
  const expectedSerial = testSerial(targetBefore.tenant.companyName, targetBefore.tenant.serial);

  const cloneStart = Date.now();
  console.log(`\nCloning ${DEMO.source} → ${DEMO.target} (documents: all, requested by ${REQUESTED_BY})`);
  console.log(`  follow it in the Web UI: ${s.workflowUrl(cloneWorkflowId(DEMO.target))}\n`);
  let end: FinalOutcome;
  try {
    await s.client.start({ source: DEMO.source, target: DEMO.target, documents: 'all', requestedBy: REQUESTED_BY, mailDomain: MAIL_DOMAIN });
    end = await watchClone(s.client, DEMO.target);
  } catch (err) {
    end = { outcome: 'failed', message: (err as Error).message };
  }
  // Ctrl-C during the clone: the stack is going down under it; the clone stays in Temporal.
  if (stopRequested) return;
  console.log(`\nClone ended in ${seconds(cloneStart)}: ${end.outcome}${end.outcome === 'done' ? '' : ` (${end.message})`}`);

  console.log('\nChecking the result on the real services:');
  const results = await runChecks(s, end, { expectedSerial, since: cloneStart });
  if (stopRequested) return;
  const passed = results.every(Boolean);
  exitCode = passed ? 0 : 1;

  console.log(`\n${passed ? '✔ all checks passed' : '✘ some checks failed'}`);
  console.log(`  Web UI of this run: ${s.workflowUrl(cloneWorkflowId(DEMO.target))}`);
  console.log(`  mail inbox:         ${s.inboxUrl}`);
  console.log(`  platform emulator:  ${s.emulatorUrl}/_emulator/tenants/${DEMO.target}`);

  if (down || stopRequested) await shutdown(exitCode);
  console.log(`\nThe stack stays up for exploring (\`source ${s.envFile}\`, then bin/tenant-clone list). Press Ctrl-C to stop.`);
  if (s.continuousBackup) {
    console.log(`A point-in-time clone of ${DEMO.source} as it was seconds ago (its server archives its WAL with pgBackRest):`);
    console.log(`  bin/tenant-clone start ${DEMO.source} ${DEMO.target} --plan point-in-time --point-in-time "10s ago" --wait`);
  }
}

async function runChecks(s: LocalStack, end: FinalOutcome, o: { expectedSerial: string; since: number }): Promise<boolean[]> {
  const targetDb = tenantDatabaseName(DEMO.target);
  const checks: [string, () => Promise<string | true>][] = [
    ['the clone succeeded', async () => end.outcome === 'done' || `outcome ${end.outcome}`],
    [
      `no e-mail address outside @${MAIL_DOMAIN} in ${targetDb}`,
      async () => {
        const v = await s.db.verifyEmails(targetDb, s.profile, MAIL_DOMAIN);
        return v.total === 0 || `${v.total} left: ${v.findings.slice(0, 3).join('; ')}`;
      },
    ],
    [
      'no enabled scheduled task',
      async () => {
        const n = await s.db.countEnabledScheduledTasks(targetDb, s.profile);
        return n === 0 || `${n} still enabled`;
      },
    ],
    [
      `the test serial "${o.expectedSerial}"`,
      async () => {
        const info = await s.db.readCompanyInfo(targetDb);
        return info.serial === o.expectedSerial || `serial is "${info.serial}"`;
      },
    ],
    ["templates equal the source's (azure)", () => sameBlobs(s, 'azure', 'templates')],
    [
      "documents equal the source's (azure and soarc)",
      async () => {
        const azure = await sameBlobs(s, 'azure', 'documents');
        const soarc = await sameBlobs(s, 'soarc', 'documents');
        return azure === true ? soarc : azure;
      },
    ],
    [
      'the platform shows the target running, directory state Normal',
      async () => {
        const st = await s.admin.state(DEMO.target);
        return (st.hosting.mode === 'running' && st.tenant.state === 'Normal') || `hosting ${st.hosting.mode}, directory ${st.tenant.state}`;
      },
    ],
    [`the welcome mail reached ${DEMO.target}@${MAIL_DOMAIN}`, () => mailArrived(s, `${DEMO.target}@${MAIL_DOMAIN}`, o.since)],
    [`the requester's mail reached ${REQUESTED_BY}`, () => mailArrived(s, REQUESTED_BY, o.since)],
  ];
  const results: boolean[] = [];
  for (const [name, check] of checks) {
    if (stopRequested) break;
    let outcome: string | true;
    try {
      outcome = await check();
    } catch (err) {
      outcome = `error: ${(err as Error).message}`;
    }
    results.push(outcome === true);
    console.log(outcome === true ? `  ✔ ${name}` : `  ✘ ${name}: ${outcome}`);
  }
  return results;
}

async function sameBlobs(s: LocalStack, system: 'azure' | 'soarc', kind: 'templates' | 'documents'): Promise<string | true> {
  const source = await s.archives.list({ system, tenant: DEMO.source, kind });
  const target = await s.archives.list({ system, tenant: DEMO.target, kind });
  const key = (b: { name: string; md5: string | null }) => `${b.name} ${b.md5}`;
  const want = new Set(source.map(key));
  const got = new Set(target.map(key));
  const missing = [...want].filter((k) => !got.has(k));
  const extra = [...got].filter((k) => !want.has(k));
  if (source.length === 0) return `${system} ${kind}: the source has none`;
  if (missing.length === 0 && extra.length === 0) return true;
  return `${system} ${kind}: ${missing.length} missing or different, ${extra.length} extra (source ${source.length}, target ${target.length})`;
}

/** maildev's REST API lists the inbox; only mails received since the clone started count. */
async function mailArrived(s: LocalStack, to: string, since: number): Promise<string | true> {
  const until = Date.now() + 15_000;
  for (;;) {
    const res = await fetch(`${s.inboxUrl}/email`);
    if (!res.ok) return `GET ${s.inboxUrl}/email answered ${res.status}`;
    const mails = (await res.json()) as MaildevMail[];
    const hit = mails.find((m) => m.to.some((t) => t.address.toLowerCase() === to.toLowerCase()) && Date.parse(m.time ?? m.date ?? '') >= since - 1000);
    if (hit) return true;
    if (Date.now() > until) return `no mail to ${to} among the ${mails.length} in the inbox`;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)}s`;
}

main().catch(async (err: Error) => {
  // Failures caused by services stopping under a Ctrl-C are not news.
  if (stopRequested) return;
  console.error(err instanceof StackError ? `demo: ${err.message}` : `demo failed: ${err.stack ?? err.message}`);
  await shutdown(1);
});
