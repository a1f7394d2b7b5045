/**
 * `npm run bench`: each measurement as a ratio against the best primitive measured in the same
 * run on the same data (these machines are shared and noisy: absolute times mean little).
 * PostgreSQL: DATABASE_URL, or an embedded server when it is unset.
 */
import path from 'node:path';
import { startPostgres } from '../stack/services/postgres';
import { benchArchive } from './archive';
import { benchDatabase } from './database';
import { benchPointInTime } from './point-in-time';

async function main() {
  const log = (line: string) => console.log(line);
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
  log('# point-in-time restore (PostgreSQL with pgBackRest, its own embedded server)');
  await benchPointInTime(log);
  log('# archives (Azurite)');
  await benchArchive(log);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
