/**
 * pgBackRest, the continuous backup of the tenant server: the server archives its write-ahead
 * log into the repository (`archive_command = pgbackrest … archive-push %p`), full and
 * differential backups are taken from here, and one tenant's database is restored as it was
 * at any second the backups and the archived WAL reach. The repository (an Azure container in
 * production and in the local stack) and its credentials are in pgBackRest's own configuration
 * file, never in this process's settings or in workflow history.
 */
import { runTool, type OsAccount } from './child-process';

export interface PgBackRestOptions {
  /** The stanza: pgBackRest's name for the tenant server. */
  stanza: string;
  /** pgBackRest's configuration file; default: its own default (/etc/pgbackrest/pgbackrest.conf). */
  configFile?: string;
  /** The pgbackrest program; default: found on PATH. */
  bin?: string;
  /** Who runs it (see os-account.ts); undefined: this process's account. */
  account?: OsAccount;
}

export type ServerBackupType = 'full' | 'diff' | 'incr';

/** One backup set of the repository, as `pgbackrest info` lists it. */
export interface BackupSet {
  label: string;
  type: ServerBackupType;
  /** Epoch ms; pgBackRest records whole seconds. */
  startedMs: number;
  stoppedMs: number;
  /** Size of the server's files when it was taken, and what the set takes in the repository. */
  sizeBytes: number;
  repositoryBytes: number;
}

export interface StanzaInfo {
  stanza: string;
  /** The server the repository belongs to (pg_control_system().system_identifier), as text: it exceeds 2^53. */
  systemId: string | null;
  /** PostgreSQL major version of the server, e.g. "15". */
  pgVersion: string | null;
  /** Archived WAL of the current server: the first and the last segment. */
  archive: { min: string; max: string } | null;
  /** Oldest first. */
  sets: BackupSet[];
  /** A backup is running now (the repository's backup lock is held). */
  backupRunning: boolean;
  /** pgBackRest's status: ok, or what is wrong (e.g. "missing stanza path"). */
  status: { code: number; message: string };
}

export interface RestoreRequest {
  /** An empty data directory, owned by the account the restore runs as. */
  pgPath: string;
  /** The one database to restore (the others come back as empty sparse files, unusable); null: the whole server. */
  database: string | null;
  /** ISO-8601 instant: recovery stops before the first transaction committed after it. */
  at: string;
  /** The backup set to start from (chooseBackupSet); pgBackRest's own choice otherwise. */
  set: string;
  /** Where this restore keeps its lock, so it needs no path shared with the server's pgBackRest. */
  lockPath: string;
  processMax: number;
  signal?: AbortSignal;
  onProgress?: (percent: number, detail: string) => void;
  onSpawn?: (pid: number) => void;
}

/** pgBackRest's progress lines at log level detail (sent to stderr, which runTool streams): `… file /path (16MB, 45.12%) checksum …`. */
const FILE_PROGRESS = /(backup|restore) file (\S+) \([^,]*, (\d+(?:\.\d+)?)%\)/;

/** `2026-12-01 09:30:00.123+00`: the form pgBackRest parses to pick a backup set for a time target. */
export function pgBackRestTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) throw new Error(`invalid point in time ${JSON.stringify(iso)}: expected an ISO-8601 instant`);
  return `${d.toISOString().replace('T', ' ').replace('Z', '')}+00`;
}

export class PgBackRest {
  readonly stanza: string;

  constructor(private readonly opts: PgBackRestOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(opts.stanza ?? '')) {
      throw new Error(`invalid pgBackRest stanza ${JSON.stringify(opts.stanza)}: 1-64 letters, digits, '_', '.' or '-'`);
    }
    this.stanza = opts.stanza;
  }

  private args(command: string, extra: string[] = []): string[] {
    return [...(this.opts.configFile ? [`--config=${this.opts.configFile}`] : []), `--stanza=${this.stanza}`, ...extra, command];
  }

  private run(
    command: string,
    extra: string[],
    o: { signal?: AbortSignal; onLine?: (line: string) => void; onSpawn?: (pid: number) => void } = {},
  ): Promise<string> {
    // Options in PGBACKREST_* variables would silently change what runs: only the file counts.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PGBACKREST_')));
    return runTool(this.opts.bin ?? 'pgbackrest', this.args(command, extra), {
      env,
      signal: o.signal,
      onLine: o.onLine,
      account: this.opts.account,
      onSpawn: o.onSpawn,
      // The server's account may not be allowed into this process's working directory.
      cwd: '/',
    }).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') throw err;
      throw new Error(`pgBackRest ${command} (stanza ${this.stanza}) failed: ${(err as Error).message.replace(/^\S+ failed /, '')}`, { cause: err });
    });
  }

  async info(): Promise<StanzaInfo> {
    const text = await this.run('info', ['--output=json']);
    return parseInfo(text, this.stanza);
  }

  /** The databases a backup set holds (what `--db-include` can name), with their oids. */
  async databasesIn(label: string): Promise<{ name: string; oid: number }[]> {
    const text = await this.run('info', ['--output=json', `--set=${label}`]);
    const [stanza] = JSON.parse(text) as RawStanza[];
    const set = stanza?.backup?.find((b) => b.label === label);
    return (set?.['database-ref'] ?? []).map((d) => ({ name: d.name, oid: d.oid }));
  }

  /** Create the stanza (idempotent): the repository's record of this server. */
  async createStanza(signal?: AbortSignal): Promise<void> {
    await this.run('stanza-create', [], { signal });
  }

  /** Take a backup of the whole server; returns the new set's label. */
  async backup(
    type: ServerBackupType,
    o: { processMax: number; signal?: AbortSignal; onProgress?: (percent: number, detail: string) => void },
  ): Promise<string> {
    let label: string | null = null;
    await this.run('backup', [`--type=${type}`, `--process-max=${o.processMax}`, '--log-level-console=off', '--log-level-stderr=detail'], {
      signal: o.signal,
      onLine: (line) => {
        label = /new backup label = (\S+)/.exec(line)?.[1] ?? label;
        const m = FILE_PROGRESS.exec(line);
        if (m) o.onProgress?.(Number(m[3]), `${type} backup of the server: ${m[3]}%`);
      },
    });
    if (!label) throw new Error(`pgBackRest backup (stanza ${this.stanza}) ended without naming its backup set`);
    return label;
  }

  /**
   * Restore `database` (or the whole server) as it was at `at` into `pgPath`, ready to start: the server recovers to
   * that instant from the archived WAL, then is promoted, and archives nothing itself.
   */
  async restore(r: RestoreRequest): Promise<void> {
    await this.run(
      'restore',
      [
        `--pg1-path=${r.pgPath}`,
        ...(r.database ? [`--db-include=${r.database}`] : []),
        '--type=time',
        `--target=${pgBackRestTime(r.at)}`,
        '--target-action=promote',
        `--set=${r.set}`,
        '--archive-mode=off',
        `--process-max=${r.processMax}`,
        `--lock-path=${r.lockPath}`,
        '--log-level-file=off',
        '--log-level-console=off',
        '--log-level-stderr=detail',
      ],
      {
        signal: r.signal,
        onSpawn: r.onSpawn,
        onLine: (line) => {
          const m = FILE_PROGRESS.exec(line);
          if (m) r.onProgress?.(Number(m[3]), `restoring the server's files: ${m[3]}%`);
        },
      },
    );
  }
}

interface RawStanza {
  name: string;
  status?: { code: number; message: string; lock?: { backup?: { held?: boolean } } };
  db?: { version?: string }[];
  archive?: { min?: string | null; max?: string | null }[];
  backup?: {
    label: string;
    type: ServerBackupType;
    timestamp: { start: number; stop: number };
    info?: { size?: number; repository?: { delta?: number; size?: number } };
    error?: boolean;
    'database-ref'?: { name: string; oid: number }[] | null;
  }[];
}

export function parseInfo(text: string, stanza: string): StanzaInfo {
  let all: RawStanza[];
  try {
    all = JSON.parse(text) as RawStanza[];
  } catch {
    throw new Error(`pgBackRest info for stanza ${stanza} is not JSON: ${text.slice(0, 200)}`);
  }
  const raw = all.find((s) => s.name === stanza);
  if (!raw) throw new Error(`pgBackRest info does not list stanza ${stanza}`);
  // The system id is a 64-bit integer: read it from the text, which JSON numbers would round.
  const systemId = /"system-id"\s*:\s*(\d+)/.exec(text)?.[1] ?? null;
  const archive = raw.archive?.[raw.archive.length - 1];
  return {
    stanza,
    systemId,
    pgVersion: raw.db?.[raw.db.length - 1]?.version ?? null,
    archive: archive?.min && archive.max ? { min: archive.min, max: archive.max } : null,
    sets: (raw.backup ?? [])
      .filter((b) => !b.error)
      .map((b) => ({
        label: b.label,
        type: b.type,
        startedMs: b.timestamp.start * 1000,
        stoppedMs: b.timestamp.stop * 1000,
        sizeBytes: b.info?.size ?? 0,
        repositoryBytes: b.info?.repository?.delta ?? b.info?.repository?.size ?? 0,
      }))
      .sort((a, b) => a.stoppedMs - b.stoppedMs),
    backupRunning: raw.status?.lock?.backup?.held === true,
    status: { code: raw.status?.code ?? -1, message: raw.status?.message ?? 'unknown' },
  };
}

/**
 * The earliest instant a set can be recovered to: a backup is consistent only once it has
 * stopped, and pgBackRest records the stop in whole seconds, so one more second is kept.
 */
export const restorableFromMs = (set: BackupSet) => set.stoppedMs + 1000;

/** The set a restore to `atMs` starts from: the newest one already restorable then (pgBackRest's own rule). */
export function chooseBackupSet(sets: readonly BackupSet[], atMs: number): BackupSet | null {
  return [...sets].reverse().find((s) => restorableFromMs(s) <= atMs) ?? null;
}
