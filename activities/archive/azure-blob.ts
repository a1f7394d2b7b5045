import { createHash } from 'node:crypto';
import { BlobServiceClient, ContainerClient, ContainerSASPermissions, StorageSharedKeyCredential, generateBlobSASQueryParameters } from '@azure/storage-blob';
import type { ArchiveCopyOptions, ArchiveCopyResult, ArchiveLocation, ArchiveSystem, Archives, CopyCheckpoint, ServerAccess } from './port';
import { checkBlockSize, downloadBlobToFile, readBlobText, uploadFileToBlob } from './blob-files';
import { DonePrefix } from './done-prefix';
import { checkBlobName, describeLocation, resolveLocation, type ResolvedLocation } from './location';

export interface AzureBlobArchivesConfig {
  /** Connection strings (with AccountKey: source copies are authorised with a SAS signed by it). */
  azure: string;
  soarc: string;
  /** Block size of uploadFile (bytes); files up to one block go in one request. Default 8 MiB. */
  blockSize?: number;
}

interface BlobEntry {
  name: string;
  size: number;
  md5: string | null;
}

const DEFAULT_CONCURRENCY = 8;
const MAX_CONCURRENCY = 64;
// A source SAS only has to outlive the copies started with it; renewed well before it runs out.
const SAS_LIFETIME_MS = 60 * 60 * 1000;
const SAS_RENEW_MARGIN_MS = 10 * 60 * 1000;
const SAS_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** Error thrown when `sync` stops because its signal was aborted; carries where to resume. */
export class ArchiveSyncAborted extends Error {
  override readonly name = 'AbortError';
  constructor(
    readonly checkpoint: CopyCheckpoint,
    reason: unknown,
  ) {
    super(`archive sync aborted after '${checkpoint.after ?? ''}' (${checkpoint.copied} copied)`, { cause: reason });
  }
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function md5Base64(bytes: Uint8Array | undefined): string | null {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('base64') : null;
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { statusCode?: number }).statusCode;
    const code = (err as { code?: string }).code;
    const first = err.message.split('\n')[0];
    return [status, code].filter((v) => v !== undefined).join(' ') + (status || code ? ': ' : '') + first;
  }
  return String(err);
}

/** Wraps a failure with where it happened; an abort stays recognisable as one (name AbortError). */
function failedWith(what: string, err: unknown): Error {
  const wrapped = new Error(`${what} failed: ${errorText(err)}`, { cause: err });
  if (err instanceof Error && err.name === 'AbortError') wrapped.name = 'AbortError';
  return wrapped;
}

function clientFor(system: ArchiveSystem, connectionString: unknown): BlobServiceClient {
  if (typeof connectionString !== 'string' || connectionString.trim() === '') {
    throw new Error(`archive system '${system}': connection string is missing or empty`);
  }
  let client: BlobServiceClient;
  try {
    client = BlobServiceClient.fromConnectionString(connectionString);
  } catch (err) {
    // The connection string holds the account key, so it is never echoed back.
    throw new Error(`archive system '${system}': invalid connection string (${errorText(err)})`);
  }
  if (!(client.credential instanceof StorageSharedKeyCredential)) {
    throw new Error(`archive system '${system}': connection string must carry AccountName and AccountKey`);
  }
  return client;
}

function checkOptions(opts: ArchiveCopyOptions): { concurrency: number; start: CopyCheckpoint } {
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new Error(`invalid archive copy concurrency ${String(concurrency)} (an integer 1-${MAX_CONCURRENCY})`);
  }
  const start = opts.checkpoint ?? { after: null, copied: 0, bytes: 0 };
  const countOk = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if ((start.after !== null && typeof start.after !== 'string') || !countOk(start.copied) || !countOk(start.bytes)) {
    throw new Error(`invalid archive copy checkpoint ${JSON.stringify(start)}`);
  }
  return { concurrency, start: { after: start.after, copied: start.copied, bytes: start.bytes } };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

/** The two archive systems as Azure Blob Storage accounts (Azurite locally). */
export class AzureBlobArchives implements Archives {
  private readonly services: Record<ArchiveSystem, BlobServiceClient>;
  private readonly blockSize: number;

  constructor(config: AzureBlobArchivesConfig) {
    if (config === null || typeof config !== 'object') throw new Error('AzureBlobArchives: config is required');
    this.services = { azure: clientFor('azure', config.azure), soarc: clientFor('soarc', config.soarc) };
    this.blockSize = checkBlockSize(config.blockSize);
  }

  async list(at: ArchiveLocation): Promise<BlobEntry[]> {
    const loc = resolveLocation(at);
    return this.listResolved(loc);
  }

  async put(at: ArchiveLocation, name: string, body: Buffer | string): Promise<void> {
    const loc = this.blobLocation(at, name);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    if (!Buffer.isBuffer(bytes)) throw new Error(`blob '${name}': body must be a Buffer or a string`);
    const container = this.container(loc);
    try {
      await container.createIfNotExists();
      await container.getBlockBlobClient(name).uploadData(bytes, {
        blobHTTPHeaders: { blobContentMD5: createHash('md5').update(bytes).digest() },
      });
    } catch (err) {
      throw new Error(`uploading '${name}' to ${describeLocation(loc)} failed: ${errorText(err)}`, { cause: err });
    }
  }

  async getText(at: ArchiveLocation, name: string): Promise<string | null> {
    const loc = this.blobLocation(at, name);
    try {
      return await readBlobText(this.container(loc).getBlobClient(name));
    } catch (err) {
      throw failedWith(`reading '${name}' from ${describeLocation(loc)}`, err);
    }
  }

  async uploadFile(
    at: ArchiveLocation,
    name: string,
    file: string,
    opts: { onProgress?: (bytes: number) => void; signal?: AbortSignal } = {},
  ): Promise<{ bytes: number }> {
    const loc = this.blobLocation(at, name);
    const container = this.container(loc);
    try {
      await container.createIfNotExists({ abortSignal: opts.signal });
      return await uploadFileToBlob(container.getBlockBlobClient(name), file, this.blockSize, opts);
    } catch (err) {
      throw failedWith(`uploading "${file}" to '${name}' in ${describeLocation(loc)}`, err);
    }
  }

  async downloadFile(
    at: ArchiveLocation,
    name: string,
    file: string,
    opts: { onProgress?: (bytes: number, total: number) => void; signal?: AbortSignal } = {},
  ): Promise<{ bytes: number }> {
    const loc = this.blobLocation(at, name);
    let result: { bytes: number } | null;
    try {
      result = await downloadBlobToFile(this.container(loc).getBlobClient(name), file, opts);
    } catch (err) {
      throw failedWith(`downloading '${name}' from ${describeLocation(loc)} to "${file}"`, err);
    }
    if (result === null) throw new Error(`cannot download '${name}' from ${describeLocation(loc)}: no such blob`);
    return result;
  }

  async sync(from: ArchiveLocation, to: ArchiveLocation, opts: ArchiveCopyOptions = {}): Promise<ArchiveCopyResult> {
    const src = resolveLocation(from);
    const dst = resolveLocation(to);
    const { concurrency, start } = checkOptions(opts);
    if (src.system === dst.system && src.container === dst.container && (src.prefix.startsWith(dst.prefix) || dst.prefix.startsWith(src.prefix))) {
      throw new Error(`cannot sync ${describeLocation(src)} onto overlapping ${describeLocation(dst)}`);
    }
    if (opts.signal?.aborted) throw new ArchiveSyncAborted(start, opts.signal.reason);

    const sourceBlobs = await this.listResolved(src);
    const targetBlobs = await this.listResolved(dst);
    const targetByName = new Map(targetBlobs.map((b) => [b.name, b]));
    const targetName = (sourceName: string) => dst.prefix + sourceName.slice(src.prefix.length);

    const targetContainer = this.container(dst);
    try {
      await targetContainer.createIfNotExists();
    } catch (err) {
      throw new Error(`creating container ${describeLocation(dst)} failed: ${errorText(err)}`, { cause: err });
    }

    const total = sourceBlobs.length;
    const alreadyDone = start.after === null ? 0 : sourceBlobs.filter((b) => byName(b.name, start.after!) <= 0).length;
    const todo = sourceBlobs.slice(alreadyDone);
    const tracker = new DonePrefix(
      todo.map((b) => b.name),
      start,
    );
    const sourceSas = this.sasSource(src);

    const copyOne = async (blob: BlobEntry): Promise<{ copied: boolean; bytes: number }> => {
      const existing = targetByName.get(targetName(blob.name));
      // Without a source MD5 there is nothing trustworthy to compare, so such a blob is always copied.
      if (existing && blob.md5 !== null && existing.md5 === blob.md5 && existing.size === blob.size) {
        return { copied: false, bytes: 0 };
      }
      const sourceUrl = `${this.container(src).getBlobClient(blob.name).url}?${sourceSas()}`;
      const target = targetContainer.getBlobClient(targetName(blob.name));
      try {
        const poller = await target.beginCopyFromURL(sourceUrl, { intervalInMs: 200 });
        const result = await poller.pollUntilDone();
        if (result.copyStatus !== undefined && result.copyStatus !== 'success') {
          throw new Error(`copy status ${result.copyStatus}`);
        }
      } catch (err) {
        throw new Error(`copying '${blob.name}' from ${describeLocation(src)} to ${describeLocation(dst)} failed: ${errorText(err)}`, { cause: err });
      }
      return { copied: true, bytes: blob.size };
    };

    const report = () => {
      const cp = tracker.checkpoint;
      const done = alreadyDone + tracker.doneInRun;
      opts.onProgress?.(cp, {
        percent: total === 0 ? 100 : Math.floor((done * 100) / total),
        detail: `${done}/${total} blobs done, ${cp.copied} copied (${formatBytes(cp.bytes)}) to ${describeLocation(dst)}`,
      });
    };

    let failure: { err: unknown } | null = null;
    let nextIndex = 0;
    const worker = async () => {
      while (failure === null && !opts.signal?.aborted && nextIndex < todo.length) {
        const index = nextIndex++;
        let outcome: { copied: boolean; bytes: number };
        try {
          outcome = await copyOne(todo[index]);
        } catch (err) {
          failure ??= { err };
          return;
        }
        // Once the run has failed its callback is not called again: it may be what threw.
        if (tracker.finish(index, outcome) && failure === null) {
          try {
            report();
          } catch (err) {
            // A throwing progress callback (e.g. a cancelled heartbeat) stops the run like an abort.
            failure ??= { err };
            return;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));

    if (failure !== null) throw (failure as { err: unknown }).err;
    if (opts.signal?.aborted) throw new ArchiveSyncAborted(tracker.checkpoint, opts.signal.reason);

    const wanted = new Set(sourceBlobs.map((b) => targetName(b.name)));
    const stale = targetBlobs.filter((b) => !wanted.has(b.name));
    let removed = 0;
    const deleteNext = async () => {
      while (stale.length > 0) {
        const blob = stale.shift()!;
        try {
          const res = await targetContainer.getBlobClient(blob.name).deleteIfExists({ deleteSnapshots: 'include' });
          if (res.succeeded) removed += 1;
        } catch (err) {
          throw new Error(`removing stale '${blob.name}' from ${describeLocation(dst)} failed: ${errorText(err)}`, {
            cause: err,
          });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, stale.length) }, deleteNext));

    if (todo.length === 0) report();
    return { ...tracker.checkpoint, removed, total };
  }

  async serverAccess(at: ArchiveLocation, lifetimeMs: number): Promise<ServerAccess> {
    const loc = resolveLocation(at);
    if (!Number.isInteger(lifetimeMs) || lifetimeMs < 60_000 || lifetimeMs > 7 * 24 * 3600_000) {
      throw new Error(`invalid SAS lifetime ${String(lifetimeMs)} ms: between one minute and seven days`);
    }
    const container = this.container(loc);
    try {
      await container.createIfNotExists();
    } catch (err) {
      throw failedWith(`creating ${describeLocation(loc)}`, err);
    }
    const now = Date.now();
    // rwdl is what SQL Server documents for BACKUP TO URL; one level for backup and restore,
    // because the server keeps one credential per container URL and both may use it at once.
    const sasToken = generateBlobSASQueryParameters(
      {
        containerName: loc.container,
        permissions: ContainerSASPermissions.parse('rwdl'),
        startsOn: new Date(now - SAS_CLOCK_SKEW_MS),
        expiresOn: new Date(now + lifetimeMs),
      },
      this.services[loc.system].credential as StorageSharedKeyCredential,
    ).toString();
    return { containerUrl: container.url, sasToken };
  }

  /** The validated location of one blob, which must lie under the location's prefix. */
  private blobLocation(at: ArchiveLocation, name: string): ResolvedLocation {
    const loc = resolveLocation(at);
    checkBlobName(name);
    if (!name.startsWith(loc.prefix)) {
      throw new Error(`blob name '${name}' is outside the location prefix '${loc.prefix}'`);
    }
    return loc;
  }

  private container(loc: ResolvedLocation): ContainerClient {
    return this.services[loc.system].getContainerClient(loc.container);
  }

  private async listResolved(loc: ResolvedLocation): Promise<BlobEntry[]> {
    const container = this.container(loc);
    const out: BlobEntry[] = [];
    try {
      if (!(await container.exists())) return out;
      for await (const item of container.listBlobsFlat({ prefix: loc.prefix || undefined })) {
        out.push({
          name: item.name,
          size: item.properties.contentLength ?? 0,
          md5: md5Base64(item.properties.contentMD5),
        });
      }
    } catch (err) {
      throw new Error(`listing ${describeLocation(loc)} failed: ${errorText(err)}`, { cause: err });
    }
    // Sorted here, with the same comparison the checkpoint uses, so resuming never depends on
    // the service's collation.
    return out.sort((a, b) => byName(a.name, b.name));
  }

  /** A read-only SAS for the source container, signed locally with the account key and renewed as needed. */
  private sasSource(loc: ResolvedLocation): () => string {
    const credential = this.services[loc.system].credential as StorageSharedKeyCredential;
    let token = '';
    let expiresAt = 0;
    return () => {
      const now = Date.now();
      if (now > expiresAt - SAS_RENEW_MARGIN_MS) {
        expiresAt = now + SAS_LIFETIME_MS;
        token = generateBlobSASQueryParameters(
          {
            containerName: loc.container,
            permissions: ContainerSASPermissions.parse('r'),
            startsOn: new Date(now - SAS_CLOCK_SKEW_MS),
            expiresOn: new Date(expiresAt),
          },
          credential,
        ).toString();
      }
      return token;
    };
  }
}
