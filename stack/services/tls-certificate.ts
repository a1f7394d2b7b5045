/**
 * A self-signed certificate for `localhost`, made with openssl, for local services that must
 * speak TLS (pgBackRest reaches Azure storage only over HTTPS). pgBackRest checks the host
 * against the certificate's DNS names, so clients connect to `localhost`, not 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export interface LocalCertificate {
  /** PEM certificate; also the CA file clients are told to trust. */
  cert: string;
  key: string;
}

async function openssl(args: string[]): Promise<void> {
  try {
    await promisify(execFile)('openssl', args);
  } catch (err) {
    throw new Error(`cannot make a TLS certificate with openssl (is it installed?): ${(err as Error).message.split('\n')[0]}`);
  }
}

export async function makeLocalhostCertificate(dir: string, days = 30): Promise<LocalCertificate> {
  const cert = path.join(dir, 'localhost.crt');
  const key = path.join(dir, 'localhost.key');
  await openssl([
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
  // Read by the server processes, whichever account they run as; it protects only local test data.
  await chmod(key, 0o644);
  return { cert, key };
}

/**
 * A certificate authority of its own and certificates it signs, for mutual TLS: a server's for
 * `localhost`, and clients' (which a server requiring client certificates checks against it).
 */
export interface LocalAuthority {
  /** The CA's certificate: what both sides trust. */
  cert: string;
  key: string;
  issue(name: string, use: 'server' | 'client'): Promise<LocalCertificate>;
}

export async function makeCertificateAuthority(dir: string, name = 'tenant-clone local CA', days = 30): Promise<LocalAuthority> {
  const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const cert = path.join(dir, `${slug}.crt`);
  const key = path.join(dir, `${slug}.key`);
  await openssl([
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
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    cert,
    key,
    async issue(leaf, use) {
      const out = { cert: path.join(dir, `${leaf}.crt`), key: path.join(dir, `${leaf}.key`) };
      const csr = path.join(dir, `${leaf}.csr`);
      const ext = path.join(dir, `${leaf}.ext`);
      await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', out.key, '-out', csr, '-subj', `/CN=${use === 'server' ? 'localhost' : leaf}`]);
      await writeFile(
        ext,
        use === 'server'
          ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n'
          : 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n',
      );
      await openssl(['x509', '-req', '-in', csr, '-CA', cert, '-CAkey', key, '-CAcreateserial', '-out', out.cert, '-days', String(days), '-extfile', ext]);
      return out;
    },
  };
}
