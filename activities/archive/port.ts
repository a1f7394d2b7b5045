/**
 * The archive port: the document stores a tenant owns (templates, documents, attachments per
 * module), in two archive systems, `azure` and `soarc`. Both are Azure Blob accounts here
 * (Azurite locally); a tenant's archive of one kind is one container, `<tenant>-<kind>`, and
 * attachments are prefixed by module (`service/…`, `sale/…`).
 */
export type ArchiveSystem = 'azure' | 'soarc';
/** `backups` (dumps and their catalogue) and `outbox` (what clones have sent: sent-marks.ts) are the tool's own. */
export type ArchiveKind = 'templates' | 'documents' | 'attachments' | 'backups' | 'outbox';

export interface ArchiveLocation {
  system: ArchiveSystem;
  tenant: string;
  kind: ArchiveKind;
  /** Only blobs under this prefix (e.g. `service/`); empty = all. */
  prefix?: string;
}

/** Checkpoint of a copy: every blob whose name is <= `after` (in listing order) is done. */
export interface CopyCheckpoint {
  after: string | null;
  copied: number;
  bytes: number;
}

export interface ArchiveCopyOptions {
  concurrency?: number;
  checkpoint?: CopyCheckpoint;
  /** Called as the done-prefix advances; the caller heartbeats it. */
  onProgress?: (checkpoint: CopyCheckpoint, p: { percent: number; detail: string }) => void;
  signal?: AbortSignal;
}

export interface ArchiveCopyResult extends CopyCheckpoint {
  /** Target blobs under the prefix that had no source counterpart and were removed. */
  removed: number;
  total: number;
}

/** A container a server reads and writes itself, and the SAS token that lets it. The token is a secret. */
export interface ServerAccess {
  containerUrl: string;
  /** Without the leading '?'. */
  sasToken: string;
}

export interface Archives {
  /**
   * Make `to` hold exactly the blobs of `from` (server-side copy, bounded concurrency),
   * resuming after `checkpoint`. Re-running gives the same target content.
   */
  sync(from: ArchiveLocation, to: ArchiveLocation, opts?: ArchiveCopyOptions): Promise<ArchiveCopyResult>;
  /** Names and MD5 (base64) of the blobs at a location, sorted by name. */
  list(at: ArchiveLocation): Promise<{ name: string; size: number; md5: string | null }[]>;
  put(at: ArchiveLocation, name: string, body: Buffer | string): Promise<void>;
  /** A blob's content as text, or null when it does not exist. */
  getText(at: ArchiveLocation, name: string): Promise<string | null>;
  /** Upload a local file (streamed, in blocks, with progress). Overwrites. */
  uploadFile(
    at: ArchiveLocation,
    name: string,
    file: string,
    opts?: { onProgress?: (bytes: number) => void; signal?: AbortSignal },
  ): Promise<{ bytes: number }>;
  /** Download a blob to a local file (streamed, with progress). */
  downloadFile(
    at: ArchiveLocation,
    name: string,
    file: string,
    opts?: { onProgress?: (bytes: number, total: number) => void; signal?: AbortSignal },
  ): Promise<{ bytes: number }>;
  /**
   * A container-wide SAS (read, write, delete, list) for a database server that reads or writes
   * the archive itself (SQL Server's BACKUP/RESTORE TO URL), valid for `lifetimeMs`. The
   * container is created if missing. The token is a secret: it must never enter workflow history.
   */
  serverAccess(at: ArchiveLocation, lifetimeMs: number): Promise<ServerAccess>;
}
