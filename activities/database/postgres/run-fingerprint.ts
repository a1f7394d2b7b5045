/**
 * What a record the clone leaves in its target (the in-flight copy's marker, the gate's record
 * of writes) is valid for: this run, this sandbox domain and the columns this profile keeps.
 * A record with any other fingerprint is not trusted.
 */
import { createHash } from 'node:crypto';
import { keptColumns, type SanitizationProfile } from '../profile';

export function runFingerprint(profile: SanitizationProfile, sandboxDomain: string, runId: string): string {
  const kept = [...keptColumns(profile, 'public')].sort();
  return createHash('sha256').update(JSON.stringify({ runId, sandboxDomain, kept })).digest('hex');
}
