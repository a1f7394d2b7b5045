/** Runs PostgreSQL in the foreground for scripts (test/run.sh): prints `ready <url>`, stops on SIGTERM. */
import path from 'node:path';
import { startPostgres } from './services/postgres';

const port = Number(process.argv[2] ?? 5433);
const dataDir = process.argv[3] ?? path.join(__dirname, '..', '.stack', `pg-${port}`);

startPostgres({ dataDir, port, url: process.env.DATABASE_URL })
  .then((pgServer) => {
    console.log(`ready ${pgServer.url}`);
    const stop = () => pgServer.stop().finally(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  })
  .catch((err) => {
    console.error(`postgres: ${(err as Error).message}`);
    process.exit(1);
  });
