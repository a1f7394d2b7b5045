/**
 * Which backups a point-in-time restore needs, chosen from the server's own backup history
 * (msdb.dbo.backupset + backupmediafamily), the way a DBA reads it: the last full backup
 * finished before the point, then the unbroken chain of log backups after it, up to the first
 * log backup that started after the point (a log backup holds every record written before it
 * started). Pure: the rows come from tsql/history.ts, so every rule is unit-tested.
 *
 * msdb keeps times in the server's local time; `time_zone` (15-minute steps, 127 = unknown)
 * says which offset applied when each backup ran. Everything is compared in UTC here, and the
 * STOPAT the server needs is given back in its local time, at the offset of the log backup that
 * contains the point (so a DST change between the full backup and the point does not matter).
 */

/** One row of tsql/history.ts's backupHistory: one media family of one backup set. */
export interface BackupHistoryRow {
  backup_set_id: number;
  /** D = full database, L = log (I, F, G… are never selected). */
  type: string;
  is_copy_only: boolean;
  /** FILE = n of this backup set within its media. */
  position: number;
  /** numeric(25,0) LSNs as decimal text: a JS number would lose digits. */
  first_lsn: string;
  last_lsn: string;
  database_guid: string;
  /** Local server time, ISO 8601 without offset (CONVERT style 126). */
  started_local: string;
  finished_local: string;
  /** Offset of local time from UTC in 15-minute steps; 127 or null = unknown. */
  time_zone: number | null;
  recovery_model: string;
  media_family_count: number;
  family_sequence_number: number;
  /** 2 = disk, 102 = permanent disk device (its path is here too), 9 = URL (Azure Blob); 5/105 tape, 7 virtual device (third-party tools): not usable here. */
  device_type: number;
  physical_device_name: string;
}

export type ChainDevice = { kind: 'disk'; path: string } | { kind: 'url'; urls: string[] };

export interface ChainStep {
  backupSetId: number;
  source: ChainDevice;
  position: number;
  /** UTC, ISO 8601. */
  startedAt: string;
  finishedAt: string;
}

export interface RestoreChain {
  full: ChainStep;
  logs: ChainStep[];
  /** The point as the server's local time, ISO 8601 without offset: the STOPAT value. */
  stopAtLocal: string;
  /** The point in UTC, ISO 8601. */
  at: string;
}

export class RestoreChainError extends Error {}

interface BackupSet {
  id: number;
  type: string;
  copyOnly: boolean;
  position: number;
  firstLsn: bigint;
  lastLsn: bigint;
  guid: string;
  startedMs: number;
  finishedMs: number;
  offsetMin: number;
  recoveryModel: string;
  familyCount: number;
  devices: { seq: number; type: number; name: string }[];
}

const LOCAL_ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

function parseLocal(value: string, what: string): number {
  const m = LOCAL_ISO.exec(value ?? '');
  if (!m) throw new RestoreChainError(`backup history has an unreadable ${what} ${JSON.stringify(value)}`);
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
}

/** A UTC instant shown as local time at `offsetMin`, in the form STOPAT accepts. */
export function toLocalIso(utcMs: number, offsetMin: number): string {
  return new Date(utcMs + offsetMin * 60_000).toISOString().replace(/Z$/, '');
}

function toSets(rows: BackupHistoryRow[], serverOffsetMin: number): BackupSet[] {
  const byId = new Map<number, BackupSet>();
  for (const r of rows) {
    let set = byId.get(r.backup_set_id);
    if (!set) {
      const offsetMin = r.time_zone === null || r.time_zone === 127 ? serverOffsetMin : r.time_zone * 15;
      set = {
        id: r.backup_set_id,
        type: r.type,
        copyOnly: r.is_copy_only,
        position: r.position,
        firstLsn: BigInt(r.first_lsn),
        lastLsn: BigInt(r.last_lsn),
        guid: r.database_guid.toLowerCase(),
        startedMs: parseLocal(r.started_local, 'start time') - offsetMin * 60_000,
        finishedMs: parseLocal(r.finished_local, 'finish time') - offsetMin * 60_000,
        offsetMin,
        recoveryModel: r.recovery_model,
        familyCount: r.media_family_count,
        devices: [],
      };
      byId.set(r.backup_set_id, set);
    }
    if (!set.devices.some((d) => d.seq === r.family_sequence_number)) {
      set.devices.push({ seq: r.family_sequence_number, type: r.device_type, name: r.physical_device_name });
    }
  }
  return [...byId.values()];
}

const iso = (ms: number): string => new Date(ms).toISOString();

function deviceOf(set: BackupSet, db: string): ChainDevice {
  const what = `the ${set.type === 'D' ? 'full' : 'log'} backup of "${db}" finished ${iso(set.finishedMs)}`;
  const devices = [...set.devices].sort((a, b) => a.seq - b.seq);
  if (devices.length !== set.familyCount) {
    throw new RestoreChainError(`${what} has ${set.familyCount} media families, but msdb lists ${devices.length}`);
  }
  const isDisk = (t: number) => t === 2 || t === 102;
  const odd = devices.find((d) => !isDisk(d.type) && d.type !== 9);
  if (odd)
    throw new RestoreChainError(`${what} was written to device type ${odd.type} (${JSON.stringify(odd.name)}): only disk and URL backups can be restored here`);
  if (devices.every((d) => d.type === 9)) return { kind: 'url', urls: devices.map((d) => d.name) };
  if (devices.length === 1 && isDisk(devices[0].type)) return { kind: 'disk', path: devices[0].name };
  throw new RestoreChainError(
    `${what} is striped over ${devices.length} disk files or mixes disks and URLs; only single-file disk backups and URL backups are supported`,
  );
}

function step(set: BackupSet, db: string): ChainStep {
  return { backupSetId: set.id, source: deviceOf(set, db), position: set.position, startedAt: iso(set.startedMs), finishedAt: iso(set.finishedMs) };
}

export interface ChainRequest {
  /** The logical name of the source database (for messages). */
  database: string;
  /** The point, any ISO 8601 instant. */
  at: string;
  /** The server's clock now, UTC ms. */
  nowMs: number;
  /** The server's current offset from UTC in minutes, for rows whose time_zone is unknown. */
  serverOffsetMin: number;
}

export function planRestoreChain(rows: BackupHistoryRow[], req: ChainRequest): RestoreChain {
  const { database: db } = req;
  const atMs = Date.parse(req.at);
  if (typeof req.at !== 'string' || Number.isNaN(atMs))
    throw new RestoreChainError(`invalid point in time ${JSON.stringify(req.at)}: an ISO 8601 instant is needed`);
  if (atMs > req.nowMs) throw new RestoreChainError(`point in time ${iso(atMs)} is in the future (the server's clock says ${iso(req.nowMs)})`);

  const sets = toSets(rows, req.serverOffsetMin);
  const fulls = sets.filter((s) => s.type === 'D').sort((a, b) => b.finishedMs - a.finishedMs);
  if (fulls.length === 0)
    throw new RestoreChainError(`"${db}" has no full backup in the server's backup history: a point-in-time restore needs one, followed by log backups`);
  const full = fulls.find((s) => s.finishedMs <= atMs);
  if (!full) {
    throw new RestoreChainError(
      `no full backup of "${db}" finished before ${iso(atMs)}: the oldest one in the server's history finished ${iso(fulls[fulls.length - 1].finishedMs)}`,
    );
  }

  // Copy-only log backups overlap the regular chain and are left out; a copy-only *full*
  // backup is a valid base for the regular log chain, so it may be chosen.
  const logs = sets
    .filter((s) => s.type === 'L' && !s.copyOnly && s.guid === full.guid && s.lastLsn > full.lastLsn)
    .sort((a, b) => (a.firstLsn < b.firstLsn ? -1 : a.firstLsn > b.firstLsn ? 1 : a.id - b.id));
  if (logs.length === 0) {
    const model = full.recoveryModel === 'SIMPLE' ? ` (it was in SIMPLE recovery, which keeps no log chain)` : '';
    throw new RestoreChainError(
      `"${db}" has no log backup after its full backup finished ${iso(full.finishedMs)}${model}: a point-in-time restore needs the log chain up to ${iso(atMs)}`,
    );
  }
  const first = logs.find((l) => l.firstLsn <= full.lastLsn);
  if (!first) {
    throw new RestoreChainError(
      `the log chain of "${db}" does not reach back to its full backup finished ${iso(full.finishedMs)} (LSN ${full.lastLsn}; the oldest later log backup starts at LSN ${logs[0].firstLsn})`,
    );
  }

  const chain = [first];
  while (chain[chain.length - 1].startedMs <= atMs) {
    const prev = chain[chain.length - 1];
    const next = logs.find((l) => l.firstLsn === prev.lastLsn);
    if (!next) {
      const later = logs.find((l) => l.firstLsn > prev.lastLsn);
      if (later) {
        throw new RestoreChainError(
          `the log chain of "${db}" breaks after the log backup started ${iso(prev.startedMs)}: it ends at LSN ${prev.lastLsn}, and the next one starts at LSN ${later.firstLsn}`,
        );
      }
      throw new RestoreChainError(`the newest log backup of "${db}" started ${iso(prev.startedMs)}, before ${iso(atMs)}: take a log backup now and retry`);
    }
    chain.push(next);
  }
  const last = chain[chain.length - 1];
  return { full: step(full, db), logs: chain.map((l) => step(l, db)), stopAtLocal: toLocalIso(atMs, last.offsetMin), at: iso(atMs) };
}
