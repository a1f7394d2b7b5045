/**
 * Moving whole local files in and out of blobs (database backups can be many GB): uploads are
 * streamed from the file in blocks, downloads are streamed to the file, so memory use does not
 * grow with the file. Both carry a whole-file MD5 so a download can prove it got what was
 * uploaded.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobClient, BlockBlobClient } from '@azure/storage-blob';

export const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
const MIN_BLOCK_SIZE = 64 * 1024;
// Azure's limit for one staged block.
const MAX_BLOCK_SIZE = 4000 * 1024 * 1024;
const UPLOAD_CONCURRENCY = 4;

export interface TransferOptions<P> {
  onProgress?: P;
  signal?: AbortSignal;
}

export function checkBlockSize(blockSize: unknown): number {
  if (blockSize === undefined) return DEFAULT_BLOCK_SIZE;
  if (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE) {
    throw new Error(`invalid archive block size ${String(blockSize)} (an integer ${MIN_BLOCK_SIZE}-${MAX_BLOCK_SIZE} bytes)`);
  }
  return blockSize;
}

/** Absolute, so messages name exactly the file that was meant. */
export function checkLocalFile(kind: string, file: string): string {
  if (typeof file !== 'string' || file.trim() === '' || file.includes('\0')) {
    throw new Error(`invalid ${kind} ${JSON.stringify(file)}: must be a non-empty file path`);
  }
  return path.resolve(file);
}

function abortError(signal: AbortSignal, what: string): Error {
  const reason = signal.reason instanceof Error ? `: ${signal.reason.message}` : '';
  const err = new Error(`${what} aborted${reason}`, { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

async function md5OfFile(file: string, signal?: AbortSignal): Promise<Buffer> {
  const hash = createHash('md5');
  await pipeline(
    createReadStream(file),
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) hash.update(chunk);
    },
    { signal },
  );
  return hash.digest();
}

/**
 * Upload `file` to `blob`, overwriting it. Files up to one block go in one request; larger ones
 * are staged block by block straight from the file (a few blocks in flight) and committed. The
 * MD5 costs one sequential read of the file first, cheap next to the upload itself.
 */
export async function uploadFileToBlob(
  blob: BlockBlobClient,
  file: string,
  blockSize: number,
  opts: TransferOptions<(bytes: number) => void> = {},
): Promise<{ bytes: number }> {
  const local = checkLocalFile('upload file', file);
  const info = await stat(local).catch(() => null);
  if (!info) throw new Error(`upload file "${file}" does not exist`);
  if (!info.isFile()) throw new Error(`upload file "${file}" is not a regular file`);
  if (opts.signal?.aborted) throw abortError(opts.signal, `upload of "${file}"`);
  const md5 = await md5OfFile(local, opts.signal);
  let last = -1;
  const report = (bytes: number): void => {
    if (bytes > last) {
      last = bytes;
      opts.onProgress?.(bytes);
    }
  };
  report(0);
  await blob.uploadFile(local, {
    blockSize,
    maxSingleShotSize: blockSize,
    concurrency: UPLOAD_CONCURRENCY,
    blobHTTPHeaders: { blobContentMD5: md5, blobContentType: 'application/octet-stream' },
    abortSignal: opts.signal,
    onProgress: (p) => report(p.loadedBytes),
  });
  report(info.size);
  return { bytes: info.size };
}

/**
 * Download `blob` to `file` (overwritten). The bytes go to a temporary name beside `file`,
 * hashed on the way, and the file appears only once complete and matching the blob's MD5.
 * Returns null when the blob does not exist.
 */
export async function downloadBlobToFile(
  blob: BlobClient,
  file: string,
  opts: TransferOptions<(bytes: number, total: number) => void> = {},
): Promise<{ bytes: number } | null> {
  const local = checkLocalFile('download file', file);
  const dir = path.dirname(local);
  const dirInfo = await stat(dir).catch(() => null);
  if (!dirInfo?.isDirectory()) throw new Error(`cannot write download file "${file}": folder "${dir}" does not exist`);
  if (opts.signal?.aborted) throw abortError(opts.signal, `download to "${file}"`);

  let response;
  try {
    response = await blob.download(0, undefined, { abortSignal: opts.signal, maxRetryRequests: 5 });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
  const total = response.contentLength ?? 0;
  // A whole-blob read returns the stored MD5 as Content-MD5 (x-ms-blob-content-md5 on ranges).
  const expected = response.blobContentMD5 ?? response.contentMD5;
  const body = response.readableStreamBody;
  if (!body) throw new Error(`download of "${blob.name}" returned no body`);

  const partial = `${local}.partial-${process.pid}-${Date.now().toString(36)}`;
  const hash = createHash('md5');
  let bytes = 0;
  opts.onProgress?.(0, total);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      opts.onProgress?.(bytes, total);
      done(null, chunk);
    },
  });
  try {
    await pipeline(body, counter, createWriteStream(partial), { signal: opts.signal });
    if (bytes !== total) throw new Error(`download of "${blob.name}" ended after ${bytes} of ${total} bytes`);
    const got = hash.digest();
    if (expected && expected.length > 0 && !got.equals(Buffer.from(expected))) {
      throw new Error(`download of "${blob.name}" is corrupt: MD5 ${got.toString('base64')} != blob's ${Buffer.from(expected).toString('base64')}`);
    }
    await rename(partial, local);
  } catch (err) {
    await rm(partial, { force: true });
    if (opts.signal?.aborted) throw abortError(opts.signal, `download to "${file}"`);
    throw err;
  }
  return { bytes };
}

/** A blob's text (UTF-8), or null when it does not exist. */
export async function readBlobText(blob: BlobClient, signal?: AbortSignal): Promise<string | null> {
  try {
    const buffer = await blob.downloadToBuffer(0, undefined, { abortSignal: signal });
    return buffer.toString('utf8');
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return null;
    throw err;
  }
}
