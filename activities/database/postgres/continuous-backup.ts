/** The tenant server's continuous backup (ContinuousBackup) on pgBackRest. */
import type { ContinuousBackup, ProgressFn, ServerBackupRef, ServerBackupType } from '../port';
import type { BackupSet, PgBackRest } from './pgbackrest';

const ref = (s: BackupSet): ServerBackupRef => ({
  label: s.label,
  type: s.type,
  startedAt: new Date(s.startedMs).toISOString(),
  stoppedAt: new Date(s.stoppedMs).toISOString(),
  sizeBytes: s.sizeBytes,
  repositoryBytes: s.repositoryBytes,
});

export class PgBackRestContinuousBackup implements ContinuousBackup {
  constructor(
    private readonly backups: PgBackRest,
    private readonly processMax: number,
  ) {}

  get name(): string {
    return this.backups.stanza;
  }

  async list(): Promise<ServerBackupRef[]> {
    return (await this.backups.info()).sets.map(ref);
  }

  async take(type: ServerBackupType, opts: { onProgress?: ProgressFn; signal?: AbortSignal } = {}): Promise<ServerBackupRef> {
    const label = await this.backups.backup(type, {
      processMax: this.processMax,
      signal: opts.signal,
      onProgress: (percent, detail) => opts.onProgress?.({ percent, detail }),
    });
    const set = (await this.backups.info()).sets.find((s) => s.label === label);
    if (!set) throw new Error(`pgBackRest reported backup set ${label}, but stanza ${this.backups.stanza} does not list it`);
    return ref(set);
  }
}
