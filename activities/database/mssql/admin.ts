/** Server-level operations: existence, size, create, drop, rename, logins and roles. */
import { rows, run, type Connections } from './connections';
import * as ta from './tsql/admin';
import { checkIdentifier } from './tsql/identifiers';

export function checkDatabaseName(db: string): string {
  return checkIdentifier('database name', db);
}

export function checkLoginName(login: string): string {
  return checkIdentifier('login name', login);
}

export async function databaseExists(conns: Connections, db: string): Promise<boolean> {
  checkIdentifier('database name', db);
  return (await rows(await conns.master(), ta.databaseState(db))).length > 0;
}

async function requireDatabase(conns: Connections, db: string): Promise<void> {
  if (!(await databaseExists(conns, db))) throw new Error(`database "${db}" does not exist`);
}

export async function databaseSize(conns: Connections, db: string): Promise<number> {
  await requireDatabase(conns, db);
  const [r] = await rows<{ bytes: string | number }>(await conns.db(db), ta.databaseSize());
  return Number(r.bytes);
}

export async function createDatabase(conns: Connections, db: string): Promise<void> {
  checkIdentifier('database name', db);
  await run(await conns.master(), ta.createDatabase(db));
  const [r] = await rows<{ n: number }>(await conns.db(db), ta.userTableCount());
  if (r.n > 0) throw new Error(`database "${db}" already exists and holds ${r.n} tables`);
}

export async function dropDatabase(conns: Connections, db: string, azure: boolean): Promise<void> {
  checkIdentifier('database name', db);
  await conns.release(db);
  await run(await conns.master(), ta.dropDatabase(db, azure));
}

export async function renameDatabase(conns: Connections, from: string, to: string, azure: boolean): Promise<void> {
  checkIdentifier('database name', from);
  checkIdentifier('database name', to);
  await conns.release(from);
  try {
    await run(await conns.master(), ta.renameDatabase(from, to, azure));
  } catch (err) {
    // The batch's THROW messages name the database; keep them without the batch prefix.
    const m = /"[^"]+" (does not exist|already exists)/.exec((err as Error).message);
    if (m) throw new Error((err as Error).message.replace(/^rename-database: /, ''));
    throw err;
  }
}

export async function ensureLogin(conns: Connections, db: string, login: string, password: string, azure: boolean): Promise<void> {
  checkIdentifier('database name', db);
  checkIdentifier('login name', login);
  await requireDatabase(conns, db);
  await run(await conns.master(), ta.ensureServerLogin(login, password, azure));
  await run(await conns.db(db), ta.ensureDatabaseUser(login));
}

export async function grantQueryRole(conns: Connections, db: string, role: string): Promise<void> {
  checkIdentifier('database name', db);
  checkIdentifier('role name', role);
  await requireDatabase(conns, db);
  await run(await conns.db(db), ta.ensureQueryRole(role));
}
