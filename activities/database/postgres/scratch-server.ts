/**
 * The scratch server of a point-in-time restore: a throwaway PostgreSQL over a data directory
 * pgBackRest restored, which recovers to the requested instant, is copied from, and is stopped
 * and removed. One per target database, in its own folder, so a retry after a crash finds the
 * previous attempt's server and reuses it (or removes it, if it is not the same restore).
 *
 * It listens on no TCP port at all: only on a Unix socket in a folder its owner alone may
 * enter, so no one else on the machine can read the production data it holds while it runs.
 */
import { spawn } from 'node:child_process';
import { chown, mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { abortError, runTool, type OsAccount } from './child-process';

export interface ScratchSettings {
  /** Folder of the scratch servers, one subfolder per target database. */
  root: string;
  /** Folder holding `postgres` of the tenant server's major version; default: found on PATH. */
  binDir?: string;
  account?: OsAccount;
  /** A superuser role of the tenant server (it exists in every restore of it). */
  user: string;
}

/** What a scratch folder holds, so a retry knows whether it may reuse it. */
export interface ScratchMarker {
  source: string;
  at: string;
  set: string;
  /** `restoring` until pgBackRest has finished; a folder left in that phase is removed. */
  phase: 'restoring' | 'restored';
}

const PORT = 5432;
/** A Unix socket path is limited to 107 bytes on Linux. */
const MAX_SOCKET_PATH = 107;

export class ScratchServer {
  readonly dir: string;
  readonly dataDir: string;
  readonly socketDir: string;
  readonly logFile: string;
  private readonly markerFile: string;

  constructor(
    private readonly settings: ScratchSettings,
    readonly name: string,
  ) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid scratch server name ${JSON.stringify(name)}`);
    if (!path.isAbsolute(settings.root) || /['\n\\]/.test(settings.root)) {
      throw new Error(`invalid scratch folder ${JSON.stringify(settings.root)}: an absolute path without quotes, backslashes or line breaks`);
    }
    this.dir = path.join(settings.root, name);
    this.dataDir = path.join(this.dir, 'data');
    this.socketDir = path.join(this.dir, 'sock');
    this.logFile = path.join(this.dir, 'server.log');
    this.markerFile = path.join(this.dir, 'scratch.json');
    const socket = path.join(this.socketDir, `.s.PGSQL.${PORT}`);
    if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
      throw new Error(
        `scratch folder ${JSON.stringify(settings.root)} is too deep: the socket ${socket} would exceed ${MAX_SOCKET_PATH} bytes; set PG_SCRATCH_DIR to a shorter path`,
      );
    }
  }

  async marker(): Promise<ScratchMarker | null> {
    try {
      return JSON.parse(await readFile(this.markerFile, 'utf8')) as ScratchMarker;
    } catch {
      return null;
    }
  }

  async mark(marker: ScratchMarker): Promise<void> {
    await writeFile(this.markerFile, JSON.stringify(marker));
  }

  /** Stop the server if it runs and remove its folder: nothing of it is left. */
  async discard(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** A fresh, empty folder (whatever was there is discarded), owned by the server's account. */
  async prepareEmpty(): Promise<void> {
    await this.discard();
    await mkdir(this.settings.root, { recursive: true, mode: 0o755 });
    for (const d of [this.dir, this.dataDir, this.socketDir, path.join(this.dir, 'lock')]) {
      await mkdir(d, { mode: 0o700 });
      if (this.settings.account) await chown(d, this.settings.account.uid, this.settings.account.gid);
    }
  }

  /** The postmaster's pid while it runs, from its own pid file; null when none runs. */
  async pid(): Promise<number | null> {
    let text: string;
    try {
      text = await readFile(path.join(this.dataDir, 'postmaster.pid'), 'utf8');
    } catch {
      return null;
    }
    const pid = Number(text.split('\n')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return null;
    // After a reboot the number may belong to another process: only ours runs on this folder.
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
    return cmd === null || cmd.includes(this.dataDir) ? pid : null;
  }

  /**
   * Start the server on the restored data directory; it recovers to the target, then opens.
   * `oneDatabase`: only one database was restored and the others are zeroed files, whose pages
   * the WAL may still touch (e.g. all-visible marks logged without a page image); recovery then
   * goes on past them, and invalidPages() tells which relations they were in.
   */
  async start(o: { oneDatabase: boolean }): Promise<void> {
    if (await this.pid()) return;
    const conf = path.join(this.dir, 'postgresql.conf');
    const hba = path.join(this.dir, 'pg_hba.conf');
    const ident = path.join(this.dir, 'pg_ident.conf');
    // Our own settings, not the tenant server's postgresql.conf (which may include files from
    // elsewhere or live outside the data directory). pgBackRest's recovery settings stay in
    // the data directory's postgresql.auto.conf, which the server reads as well.
    await writeFile(
      conf,
      [
        `listen_addresses = ''`,
        `port = ${PORT}`,
        `unix_socket_directories = '${this.socketDir}'`,
        'unix_socket_permissions = 0700',
        `hba_file = '${hba}'`,
        `ident_file = '${ident}'`,
        // No connections while recovering: it opens only once promoted at the target. Without hot
        // standby its connection and worker limits need not match the tenant server's either.
        'hot_standby = off',
        'archive_mode = off',
        `ignore_invalid_pages = ${o.oneDatabase ? 'on' : 'off'}`,
        // A scratch copy is thrown away whatever happens: durability would only slow it down.
        'fsync = off',
        'full_page_writes = off',
        'synchronous_commit = off',
        'autovacuum = off',
        'max_connections = 20',
        'max_wal_size = 4GB',
        `log_destination = 'stderr'`,
        '',
      ].join('\n'),
    );
    // Only the socket's owner can reach it (unix_socket_permissions, and its folder is 0700).
    await writeFile(hba, 'local all all trust\n');
    await writeFile(ident, '');
    if (this.settings.account) for (const f of [conf, hba, ident]) await chown(f, this.settings.account.uid, this.settings.account.gid);

    const log = await open(this.logFile, 'a');
    try {
      const child = spawn(this.program('postgres'), ['-D', this.dataDir, '-c', `config_file=${conf}`], {
        cwd: this.dir,
        detached: true,
        stdio: ['ignore', log.fd, log.fd],
        env: { ...process.env, LC_MESSAGES: 'C' },
        ...this.settings.account,
      });
      await new Promise<void>((resolve, reject) => {
        child.once('error', (err) => reject(new Error(`cannot start the scratch server with ${this.program('postgres')}: ${err.message}`)));
        child.once('spawn', () => resolve());
      });
      // It outlives this process on purpose: a retry after a crash reuses (or removes) it.
      child.unref();
    } finally {
      await log.close();
    }
  }

  /**
   * Wait until the server has recovered to its target and opened, reporting the WAL files it
   * has replayed. A server that stops on the way (its target not reached) fails with its reason.
   */
  async waitUntilOpen(o: { signal?: AbortSignal; timeoutMs: number; onProgress?: (detail: string) => void }): Promise<void> {
    const started = Date.now();
    const until = started + o.timeoutMs;
    for (;;) {
      if (o.signal?.aborted) throw abortError(o.signal, 'scratch server recovery');
      const client = new pg.Client(this.connection('postgres'));
      try {
        await client.connect();
        const r = await client.query<{ recovering: boolean }>('SELECT pg_is_in_recovery() AS recovering');
        if (!r.rows[0].recovering) return;
      } catch (err) {
        const code = (err as { code?: string }).code;
        // 57P03: still starting up (recovering); ENOENT / ECONNREFUSED: no socket yet.
        if (code !== '57P03' && code !== 'ENOENT' && code !== 'ECONNREFUSED') throw err;
      } finally {
        await client.end().catch(() => undefined);
      }
      const log = await readFile(this.logFile, 'utf8').catch(() => '');
      // Give a just-started postmaster a moment to write its pid file.
      if (Date.now() - started > 2000 && !(await this.pid())) {
        // The reason, with the warnings before it that explain it (e.g. which page of which relation).
        const lines = log.split('\n').filter((l) => /(FATAL|PANIC|WARNING):/.test(l));
        const reason = lines.length
          ? lines
              .slice(-4)
              .map((l) => l.replace(/^.*?(FATAL|PANIC|WARNING):\s*/, '$1: '))
              .join(' | ')
          : log.split('\n').slice(-3).join(' | ');
        throw new Error(`the scratch server stopped before it reached its target: ${reason}`);
      }
      if (Date.now() > until) throw new Error(`the scratch server did not finish recovering within ${Math.round(o.timeoutMs / 1000)} s; see ${this.logFile}`);
      o.onProgress?.(`recovering to the target: ${(log.match(/restored log file/g) ?? []).length} WAL files replayed`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * The relations whose pages the WAL referenced while they did not exist or were zeroed, from
   * the server's log: `base/<database oid>/<file>`, or `global/<file>` for shared catalogs.
   */
  async invalidPages(): Promise<{ relation: string; databaseOid: number | null }[]> {
    const log = await readFile(this.logFile, 'utf8').catch(() => '');
    const found = new Map<string, number | null>();
    for (const m of log.matchAll(/page \d+ of relation (\S+) (?:is uninitialized|does not exist)/g)) {
      const oid = /^base\/(\d+)\//.exec(m[1])?.[1];
      found.set(m[1], oid ? Number(oid) : null);
    }
    return [...found].map(([relation, databaseOid]) => ({ relation, databaseOid }));
  }

  /** Connection settings for `db` on the scratch server (its socket, its superuser). */
  connection(db: string): pg.ClientConfig {
    return { host: this.socketDir, port: PORT, user: this.settings.user, database: db };
  }

  /** Environment for pg_dump reading `db` from the scratch server. */
  childEnv(db: string): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE', 'PGSERVICE', 'PGSSLMODE']) delete env[k];
    return { ...env, PGHOST: this.socketDir, PGPORT: String(PORT), PGUSER: this.settings.user, PGDATABASE: db, PGAPPNAME: 'tenant-clone' };
  }

  /** Fast shutdown (then immediate, if it lingers); nothing to do when it is not running. */
  async stop(): Promise<void> {
    const pid = await this.pid();
    if (!pid) return;
    const gone = async (ms: number) => {
      for (const until = Date.now() + ms; Date.now() < until;) {
        if (!alive(pid)) return true;
        await new Promise((r) => setTimeout(r, 100));
      }
      return !alive(pid);
    };
    signal(pid, 'SIGINT');
    if (await gone(30_000)) return;
    signal(pid, 'SIGQUIT');
    if (await gone(10_000)) return;
    signal(pid, 'SIGKILL');
    await gone(5_000);
  }

  /** The major version of the `postgres` program the scratch server runs, e.g. "15". */
  async programMajorVersion(): Promise<string> {
    const out = await runTool(this.program('postgres'), ['--version'], { env: process.env }).catch((err: unknown) => {
      throw new Error(`cannot run ${this.program('postgres')} for the scratch server (set PG_SERVER_BIN_DIR): ${(err as Error).message}`);
    });
    const m = /\(PostgreSQL\)\s+(\d+)/.exec(out);
    if (!m) throw new Error(`cannot tell the version of ${this.program('postgres')}: ${out.trim()}`);
    return m[1];
  }

  private program(name: string): string {
    return this.settings.binDir ? path.join(this.settings.binDir, name) : name;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}
