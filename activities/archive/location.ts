import type { ArchiveKind, ArchiveLocation, ArchiveSystem } from './port';

const SYSTEMS: readonly ArchiveSystem[] = ['azure', 'soarc'];
// A record, so adding a kind to the port without listing it here fails to compile.
const KIND_SET: Record<ArchiveKind, true> = { templates: true, documents: true, attachments: true, backups: true, outbox: true };
const KINDS = Object.keys(KIND_SET) as ArchiveKind[];

// Azure's rule: 3-63 chars, lower-case letters, digits and single (not leading/trailing) hyphens.
const CONTAINER_NAME = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const MAX_BLOB_NAME = 1024;

/** A location after validation: the container it lives in and its (possibly empty) name prefix. */
export interface ResolvedLocation {
  system: ArchiveSystem;
  container: string;
  prefix: string;
}

export function containerNameFor(tenant: string, kind: ArchiveKind): string {
  const name = `${tenant}-${kind}`;
  if (name.length < 3 || name.length > 63 || !CONTAINER_NAME.test(name)) {
    throw new Error(
      `invalid archive container name '${name}' (from tenant '${tenant}'): Azure container names are ` +
        '3-63 characters of lower-case letters, digits and single hyphens',
    );
  }
  return name;
}

export function resolveLocation(at: ArchiveLocation): ResolvedLocation {
  if (at === null || typeof at !== 'object') throw new Error(`invalid archive location: ${String(at)}`);
  if (!SYSTEMS.includes(at.system)) {
    throw new Error(`invalid archive system '${String(at.system)}' (expected one of ${SYSTEMS.join(', ')})`);
  }
  if (!KINDS.includes(at.kind)) {
    throw new Error(`invalid archive kind '${String(at.kind)}' (expected one of ${KINDS.join(', ')})`);
  }
  if (typeof at.tenant !== 'string' || at.tenant.length === 0) {
    throw new Error(`invalid archive tenant '${String(at.tenant)}'`);
  }
  const prefix = at.prefix ?? '';
  if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.length > MAX_BLOB_NAME) {
    throw new Error(`invalid archive prefix '${String(prefix)}' (must be a relative name prefix such as 'service/')`);
  }
  return { system: at.system, container: containerNameFor(at.tenant, at.kind), prefix };
}

export function checkBlobName(name: string): void {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_BLOB_NAME || name.startsWith('/')) {
    throw new Error(`invalid blob name '${String(name)}' (1-${MAX_BLOB_NAME} characters, not starting with '/')`);
  }
}

export function describeLocation(at: ResolvedLocation): string {
  return `${at.system}:${at.container}/${at.prefix}`;
}
