/**
 * TLS in front of a plaintext Temporal dev server (which has no TLS settings of its own), as a
 * load balancer or a secured cluster's frontend would be: it terminates TLS, with `h2` by ALPN
 * for gRPC, can require a client certificate signed by a given CA, and passes the bytes on.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { LocalCertificate } from '../../stack/services/tls-certificate';

export interface TlsFront {
  /** `localhost:<port>`: the name the server certificate is for. */
  address: string;
  /** Handshakes refused so far (no or a foreign client certificate). */
  refused: number;
  close(): Promise<void>;
}

export async function startTlsFront(o: { upstream: string; server: LocalCertificate; clientCa?: string }): Promise<TlsFront> {
  const [host, port] = o.upstream.split(':');
  const sockets = new Set<net.Socket>();
  const front = tls.createServer(
    {
      cert: readFileSync(o.server.cert),
      key: readFileSync(o.server.key),
      ALPNProtocols: ['h2'],
      ...(o.clientCa ? { ca: readFileSync(o.clientCa), requestCert: true, rejectUnauthorized: true } : {}),
    },
    (client) => {
      const upstream = net.connect(Number(port), host);
      sockets.add(client).add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream).pipe(client);
    },
  );
  const state = { refused: 0 };
  front.on('tlsClientError', () => state.refused++);
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port: listening } = front.address() as net.AddressInfo;
  return {
    address: `localhost:${listening}`,
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        front.close(() => resolve());
      }),
  };
}
