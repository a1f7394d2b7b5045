/**
 * A self-signed certificate for `localhost`, made with openssl, for local services that must
 * speak TLS (pgBackRest reaches Azure storage only over HTTPS). pgBackRest checks the host
 * against the certificate's DNS names, so clients connect to `localhost`, not 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface LocalCertificate {
  /** PEM certificate; also the CA file clients are told to trust. */
  cert: string;
  key: string;
}

export async function makeLocalhostCertificate(dir: string, days = 30): Promise<LocalCertificate> {
  const cert = path.join(dir, 'localhost.crt');
  const key = path.join(dir, 'localhost.key');
  try {
    await promisify(execFile)('openssl', [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ]);
  } catch (err) {
    throw new Error(`cannot make a TLS certificate with openssl (is it installed?): ${(err as Error).message.split('\n')[0]}`);
  }
  // Read by the server processes, whichever account they run as; it protects only local test data.
  await chmod(key, 0o644);
  return { cert, key };
}
