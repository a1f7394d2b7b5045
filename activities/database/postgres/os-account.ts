/**
 * The OS account PostgreSQL's own programs run as. PostgreSQL and pg_ctl refuse to run as root,
 * and pgBackRest must write its files as the server's owner, so a worker running as root (a
 * container, CI) runs them as that account; any other worker runs them as itself.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { OsAccount } from './child-process';

const run = promisify(execFile);
const known = new Map<string, OsAccount>();

/** `name`'s uid and gid when this process is root; undefined (run as ourselves) otherwise. */
export async function serverAccount(name: string): Promise<OsAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(name)) throw new Error(`invalid OS account name ${JSON.stringify(name)}`);
  const cached = known.get(name);
  if (cached) return cached;
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    const account = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    known.set(name, account);
    return account;
  } catch {
    throw new Error(
      `the worker runs as root, so PostgreSQL's programs must run as another account, but OS account ${JSON.stringify(name)} does not exist (set PG_OS_USER to the account that owns the tenant server's data directory)`,
    );
  }
}
