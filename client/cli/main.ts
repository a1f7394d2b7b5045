/**
 * `tenant-clone`: start, watch, skip documents, cancel and list clones.
 * Exit codes: 0 done (or running, for status), 1 the clone failed or was cancelled,
 * 2 bad input or an unreachable server; every error is one line on stderr.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  CloneAlreadyRunningError,
  CloneNotFoundError,
  CloneRefusedError,
  RequestError,
  ServerUnreachableError,
  TemporalSettingsError,
  TenantCloneClient,
  describeFailure,
  type FinalOutcome,
  type ScheduledWork,
} from '..';
import { ATTACHMENT_MODULES, PLAN_IDS, TARGET_KINDS, resolvePointInTime, type AttachmentModule, type PlanId } from '../../workflows/request';
import { SERVER_BACKUP_TYPES, type ServerBackupChoice } from '../../workflows/backup-server';
import { renderProfileReport, renderProgress } from './render';
import { watchClone } from './watch';

class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
  ) {
    super(message);
  }
}

const program = new Command('tenant-clone')
  .description('Clone a tenant into a sanitized sandbox or test environment, on Temporal')
  .option('--address <host:port>', "Temporal frontend address (env TEMPORAL_ADDRESS; default: the profile's, else 127.0.0.1:7233)")
  .option('--namespace <ns>', "Temporal namespace (env TEMPORAL_NAMESPACE; default: the profile's, else default)")
  .option('--profile <name>', 'profile of the Temporal config file (env TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE): address, namespace, TLS, API key')
  .option('--task-queue <queue>', 'task queue of the workers (env TASK_QUEUE)')
  .showHelpAfterError()
  .exitOverride();

async function withClient<T>(fn: (c: TenantCloneClient) => Promise<T>): Promise<T> {
  const g = program.opts();
  const client = await TenantCloneClient.connect({ address: g.address, namespace: g.namespace, profile: g.profile, taskQueue: g.taskQueue });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

function exitFor(end: FinalOutcome): void {
  if (end.outcome === 'done') return;
  throw new ExitError(`clone ${end.outcome}: ${end.message}`, end.outcome === 'refused' ? 2 : 1);
}

const scheduleTime = (value: string): { hour: number; minute: number } => {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (!m || Number(m[1]) > 23 || Number(m[2]) > 59)
    throw new InvalidArgumentError(`time ${JSON.stringify(value)} is invalid: expected hh:mm (UTC), e.g. 01:30`);
  return { hour: Number(m[1]), minute: Number(m[2]) };
};

const modules = (value: string): AttachmentModule[] => {
  if (value === 'none') return [];
  const list = value.split(',').map((m) => m.trim());
  for (const m of list) {
    if (!(ATTACHMENT_MODULES as readonly string[]).includes(m)) {
      throw new InvalidArgumentError(`unknown module ${JSON.stringify(m)} (modules: ${ATTACHMENT_MODULES.join(', ')}, or none)`);
    }
  }
  return list as AttachmentModule[];
};

program
  .command('start')
  .description('start a clone of <source> into <target>')
  .argument('<source>', 'source tenant id')
  .argument('<target>', 'target (sandbox or test) tenant id')
  .addOption(new Option('--plan <plan>', 'clone plan').choices(PLAN_IDS).default('copy'))
  .addOption(new Option('--kind <kind>', 'target kind (default: as the directory records it)').choices(TARGET_KINDS))
  .option('--mail-domain <domain>', 'sandbox mail domain every address is rewritten to', 'mailinator.com')
  .addOption(new Option('--documents <choice>', 'copy the optional documents').choices(['none', 'all']).default('none'))
  .option('--attachments <modules>', `attachment modules, comma-separated, or none (${ATTACHMENT_MODULES.join(', ')})`, modules)
  .option('--keep-scheduled-tasks', 'leave scheduled tasks as they are in the source')
  .option('--stay-offline', 'do not enter running mode at the end')
  .option('--point-in-time <when>', 'instant to restore (plan point-in-time): ISO-8601 with offset, e.g. 2026-12-01T09:30:00Z, or e.g. "2h ago"')
  .option('--requested-by <email>', 'address told when the clone ends')
  .option('--retain-old-database <duration>', 'keep the old target database this long after success (e.g. 24h), so `rollback` can undo the clone')
  .option('--wait', 'watch progress until the clone ends; exit code tells the outcome')
  .action(async (source: string, target: string, o) => {
    await withClient(async (c) => {
      await c.start({
        source,
        target,
        plan: o.plan,
        targetKind: o.kind ?? null,
        mailDomain: o.mailDomain,
        documents: o.documents,
        attachmentModules: o.attachments,
        keepScheduledTasks: Boolean(o.keepScheduledTasks),
        enterRunningMode: !o.stayOffline,
        pointInTime: o.pointInTime ? resolvePointInTime(o.pointInTime, Date.now()) : null,
        requestedBy: o.requestedBy ?? null,
        retainOldDatabaseFor: o.retainOldDatabase ?? null,
      });
      console.log(`started clone ${source} → ${target} (workflow clone-${target})`);
      if (o.wait) exitFor(await watchClone(c, target));
    });
  });

program
  .command('status')
  .description("show a clone's steps and outcome")
  .argument('<target>')
  .option('--json', 'print the progress as JSON')
  .action(async (target: string, o) => {
    await withClient(async (c) => {
      const p = await c.progress(target);
      console.log(o.json ? JSON.stringify(p, null, 2) : renderProgress(p));
      if (p.outcome === 'failed' || p.outcome === 'cancelled') process.exitCode = 1;
    });
  });

program
  .command('watch')
  .description('follow a clone live until it ends')
  .argument('<target>')
  .action(async (target: string) => withClient(async (c) => exitFor(await watchClone(c, target))));

program
  .command('skip-documents')
  .description('skip the optional document copies of a running clone')
  .argument('<target>')
  .action(async (target: string) =>
    withClient(async (c) => {
      await c.skipDocuments(target);
      console.log(`asked clone-${target} to skip its optional document copies`);
    }),
  );

program
  .command('cancel')
  .description('cancel a running clone at the next step boundary')
  .argument('<target>')
  .option('--reason <text>', 'why, recorded in the clone and told to the requester')
  .action(async (target: string, o) =>
    withClient(async (c) => {
      await c.cancel(target, o.reason);
      console.log(`asked clone-${target} to cancel`);
    }),
  );

program
  .command('rollback')
  .description('undo a finished clone while its old database is retained (--retain-old-database)')
  .argument('<target>')
  .option('--reason <text>', 'why, recorded in the clone and told to the requester')
  .option('--wait', 'wait until the rollback is done')
  .action(async (target: string, o) =>
    withClient(async (c) => {
      await c.rollback(target, o.reason);
      console.log(`asked clone-${target} to roll back`);
      if (!o.wait) return;
      const end = await c.result(target);
      if (end.outcome === 'done') throw new ExitError('the clone ended before the rollback reached it', 1);
      console.log(end.message);
      if (end.outcome !== 'cancelled') throw new ExitError(`rollback ${end.outcome}: ${end.message}`, 1);
    }),
  );

program
  .command('backup')
  .description("back up a tenant's database into its backup archive (joins a backup already running)")
  .argument('<tenant>')
  .option('--wait', 'wait for the backup and print its catalogue entry')
  .action(async (tenant: string, o) =>
    withClient(async (c) => {
      const handle = await c.backup(tenant);
      console.log(`backup of ${tenant}: workflow ${handle.workflowId}, run ${handle.firstExecutionRunId}`);
      if (!o.wait) return;
      try {
        console.log(JSON.stringify(await handle.result(), null, 2));
      } catch (err) {
        const end = describeFailure(err);
        throw new ExitError(`backup of ${tenant} failed: ${end.outcome === 'done' ? 'no result' : end.message}`, 1);
      }
    }),
  );

program
  .command('server-backup')
  .description('back up the whole PostgreSQL tenant server into its continuous backup (pgBackRest), the base of point-in-time clones')
  .addOption(
    new Option('--type <type>', 'auto: full when the newest full backup is a week old, else differential').choices(SERVER_BACKUP_TYPES).default('auto'),
  )
  .option('--wait', 'wait for the backup and print its backup set')
  .option('--schedule <hh:mm>', 'instead, create or update the nightly Temporal Schedule at this UTC time', scheduleTime)
  .action(async (o: { type: ServerBackupChoice; wait?: boolean; schedule?: { hour: number; minute: number } }) =>
    withClient(async (c) => {
      if (o.schedule) {
        const id = await c.scheduleServerBackups(o.schedule);
        console.log(`schedule ${id}: every night at ${String(o.schedule.hour).padStart(2, '0')}:${String(o.schedule.minute).padStart(2, '0')} UTC, type auto`);
        return;
      }
      const handle = await c.backupServer(o.type);
      console.log(`server backup: workflow ${handle.workflowId}, run ${handle.firstExecutionRunId}`);
      if (!o.wait) return;
      try {
        console.log(JSON.stringify(await handle.result(), null, 2));
      } catch (err) {
        const end = describeFailure(err);
        throw new ExitError(`server backup failed: ${end.outcome === 'done' ? 'no result' : end.message}`, 1);
      }
    }),
  );

program
  .command('list')
  .description('list recent clones')
  .option('--json', 'print as JSON')
  .action(async (o) =>
    withClient(async (c) => {
      const rows = await c.list();
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log('no clones yet');
      for (const r of rows) {
        console.log(
          `${r.target.padEnd(24)} ← ${r.source.padEnd(20)} ${r.plan.padEnd(14)} ${r.status.padEnd(11)} ${(r.step ?? '').padEnd(28)} ${r.startTime.toISOString()}`,
        );
      }
    }),
  );

const schedule = program.command('schedule').description('recurring refreshes and backups, as Temporal Schedules (also in the Web UI)');
schedule
  .command('create')
  .description('create or update schedule <name>: one of --refresh, --backup or --server-backup, at --at or --cron')
  .argument('<name>', 'schedule id: lower-case letters, digits and -')
  .option('--refresh <source:target>', 'clone <source> into <target> each time (its clone runs as clone-<target>)')
  .addOption(new Option('--plan <plan>', 'plan of the refresh').choices(['copy', 'restore']).default('copy'))
  .addOption(new Option('--documents <choice>', 'copy the optional documents in the refresh').choices(['none', 'all']).default('none'))
  .option('--requested-by <email>', 'address told when each refresh ends')
  .option('--backup <tenant>', "back up a tenant's database into its backup archive each time")
  .option('--server-backup', 'back up the whole PostgreSQL tenant server (type auto) each time')
  .option('--at <hh:mm>', 'every day at this UTC time', scheduleTime)
  .option('--cron <expr>', 'or a cron expression, five fields, UTC')
  .action(
    async (
      name: string,
      o: {
        refresh?: string;
        plan: PlanId;
        documents: 'none' | 'all';
        requestedBy?: string;
        backup?: string;
        serverBackup?: boolean;
        at?: { hour: number; minute: number };
        cron?: string;
      },
    ) => {
      const kinds = [o.refresh, o.backup, o.serverBackup].filter(Boolean).length;
      if (kinds !== 1) throw new ExitError('say what the schedule does: exactly one of --refresh <source:target>, --backup <tenant> or --server-backup', 2);
      if (!o.at === !o.cron) throw new ExitError('say when: exactly one of --at hh:mm or --cron "<expr>"', 2);
      let work: ScheduledWork;
      if (o.refresh) {
        const [source, target, extra] = o.refresh.split(':');
        if (!source || !target || extra !== undefined) throw new ExitError(`--refresh ${JSON.stringify(o.refresh)} is invalid: expected <source>:<target>`, 2);
        work = { kind: 'refresh', request: { source, target, plan: o.plan, documents: o.documents, ...(o.requestedBy ? { requestedBy: o.requestedBy } : {}) } };
      } else if (o.backup) work = { kind: 'tenant-backup', tenant: o.backup };
      else work = { kind: 'server-backup' };
      await withClient(async (c) => {
        const r = await c.putSchedule(name, work, o.at ? { at: o.at } : { cron: o.cron! });
        console.log(`schedule ${r.id} ${r.created ? 'created' : 'updated'}: ${r.what}, ${r.when}`);
      });
    },
  );
schedule
  .command('list')
  .description('list the schedules: what, when, next run, paused')
  .option('--json', 'print as JSON')
  .action(async (o: { json?: boolean }) =>
    withClient(async (c) => {
      const rows = await c.listSchedules();
      if (o.json) return console.log(JSON.stringify(rows, null, 2));
      if (rows.length === 0) return console.log('no schedules');
      for (const r of rows) {
        const next = r.paused ? `paused${r.note ? ` (${r.note})` : ''}` : `next ${r.nextRuns[0]?.toISOString() ?? '—'}`;
        console.log(`${r.id.padEnd(32)} ${r.what}; ${r.when}; ${next}`);
      }
    }),
  );
for (const [verb, description] of [
  ['pause', 'pause schedule <name>: no run starts until it is unpaused'],
  ['unpause', 'unpause schedule <name>'],
  ['delete', 'delete schedule <name> (runs already started go on)'],
  ['trigger', 'start a run of schedule <name> now'],
] as const) {
  schedule
    .command(verb)
    .description(description)
    .argument('<name>')
    .option('--reason <text>', 'kept with the schedule (pause, unpause)')
    .action(async (name: string, o: { reason?: string }) =>
      withClient(async (c) => {
        if (verb === 'pause') await c.pauseSchedule(name, o.reason);
        else if (verb === 'unpause') await c.unpauseSchedule(name, o.reason);
        else if (verb === 'delete') await c.deleteSchedule(name);
        else await c.triggerSchedule(name);
        console.log(`schedule ${name}: ${verb === 'trigger' ? 'triggered' : `${verb}d`}`);
      }),
    );
}

const profile = program.command('profile').description('the sanitization profile against a tenant');
profile
  .command('check')
  .description('list every column of <tenant> holding e-mail addresses and whether a clone would cover it; exit 1 if a clone would fail')
  .argument('<tenant>')
  .option('--mail-domain <domain>', 'the sandbox domain a clone would rewrite into', 'mailinator.com')
  .addOption(new Option('--plan <plan>', 'the plan whose profile is checked').choices(PLAN_IDS).default('copy'))
  .option('--json', 'print the report as JSON')
  .action(async (tenant: string, o: { mailDomain: string; plan: PlanId; json?: boolean }) =>
    withClient(async (c) => {
      const report = await c.checkProfile(tenant, { mailDomain: o.mailDomain, plan: o.plan });
      if (o.json) console.log(JSON.stringify(report, null, 2));
      else console.log(renderProfileReport(report));
      if (report.problems.length) process.exitCode = 1;
    }),
  );

async function main(argv: string[]): Promise<number> {
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    const e = err as Error & { code?: unknown; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      // commander already printed usage errors; help and version are not errors.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? 0 : 2;
    }
    const bad =
      err instanceof RequestError ||
      err instanceof CloneRefusedError ||
      err instanceof CloneAlreadyRunningError ||
      err instanceof CloneNotFoundError ||
      err instanceof ServerUnreachableError ||
      err instanceof TemporalSettingsError;
    console.error(`tenant-clone: ${e.message.split('\n')[0]}`);
    if (err instanceof ExitError) return err.exitCode;
    return bad ? 2 : 1;
  }
}

main(process.argv).then(
  (code) => process.exit(code),
  // main answers every error itself; anything left is a bug, still reported in one line.
  (err: unknown) => {
    console.error(`tenant-clone: ${(err as Error)?.message ?? String(err)}`);
    process.exit(1);
  },
);
