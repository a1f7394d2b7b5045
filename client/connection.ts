/**
 * Where and how worker, client library and command line reach Temporal, the Temporal way
 * (`@temporalio/envconfig`): a profile of a TOML file (`TEMPORAL_CONFIG_FILE`, by default
 * ~/.config/temporalio/temporal.toml; `TEMPORAL_PROFILE`, by default `default`), overridden by
 * `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` and
 * `TEMPORAL_GRPC_META_*`. So one binary runs on the dev server, a self-hosted mTLS cluster and
 * Temporal Cloud. With nothing set it is the plaintext local dev server.
 */
import { existsSync } from 'node:fs';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { ConnectionOptions } from '@temporalio/client';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** The variables envconfig reads, and those it needs to find the default file. */
export const TEMPORAL_ENV_VARS = [
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
] as const;
const HOME_VARS = ['HOME', 'XDG_CONFIG_HOME', 'APPDATA', 'USERPROFILE'];

export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

export interface TemporalSettings {
  /** The environment to read (default process.env); only Temporal's variables are read. */
  env?: Record<string, string | undefined>;
  /** Override the profile's (the command line's --address / --namespace / --profile). */
  address?: string;
  namespace?: string;
  profile?: string;
}

export interface TemporalTarget {
  /** For NativeConnection.connect (worker) and Connection.connect (clients): address, TLS, API key, metadata. */
  connection: NativeConnectionOptions & { address: string };
  namespace: string;
  /** `host:port, namespace n (TLS with a client certificate)`: for logs, no secret. */
  summary: string;
}

/** Bad connection settings (an unreadable config file or certificate, an unknown profile): named, before anything connects. */
export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
}

export function temporalTarget(settings: TemporalSettings = {}): TemporalTarget {
  const source = settings.env ?? process.env;
  const env: Record<string, string> = {};
  for (const k of [...TEMPORAL_ENV_VARS, ...HOME_VARS, ...Object.keys(source).filter((k) => k.startsWith('TEMPORAL_GRPC_META_'))]) {
    const v = source[k];
    if (v !== undefined && v !== '') env[k] = v;
  }
  const file = env.TEMPORAL_CONFIG_FILE;
  const where = file ? ` (config file ${file})` : '';
  // envconfig passes over a named file that is missing, and stumbles on one without profiles.
  if (file && !existsSync(file)) throw new TemporalSettingsError(`Temporal connection settings: TEMPORAL_CONFIG_FILE ${file} does not exist`);
  let loaded: ReturnType<typeof loadClientConnectConfig>;
  try {
    loaded = loadClientConnectConfig({ profile: settings.profile, overrideEnvVars: env });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0];
    const why = err instanceof TypeError ? 'it defines no [profile.<name>] table' : message;
    throw new TemporalSettingsError(`Temporal connection settings${where}: ${why}`);
  }
  const address = settings.address ?? loaded.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  const namespace = settings.namespace ?? loaded.namespace ?? 'default';
  const connection = { ...loaded.connectionOptions, address };
  const tls = connection.tls;
  const how = [
    tls ? (typeof tls === 'object' && tls.clientCertPair ? 'TLS with a client certificate' : 'TLS') : 'plaintext',
    connection.apiKey ? 'API key' : null,
  ].filter(Boolean);
  return { connection, namespace, summary: `${address}, namespace ${namespace} (${how.join(', ')})` };
}

/** The target as options of @temporalio/client's Connection.connect. */
export function clientConnectionOptions(target: TemporalTarget): Pick<ConnectionOptions, 'address' | 'tls' | 'apiKey' | 'metadata'> {
  const { address, tls, apiKey, metadata } = target.connection;
  return { address, tls, apiKey, metadata };
}
