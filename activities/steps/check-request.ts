/**
 * `check-request`: every refusal SPEC §4 lists, decided by reading only, so a refused clone has
 * touched nothing; a clone that passes takes the target's lease (steps/lease.ts). Its facts (database names, the target's state before) feed every later step.
 */
import { ApplicationFailure } from '@temporalio/common';
import { sandboxDomainRefusal } from '../../workflows/sandbox-domains';
import { CLONE_REFUSED } from '../../workflows/messages';
import { profileFor } from '../database/profile';
import type { CrossSystemDeps } from './deps';
import { pointInTimePreflight } from './point-in-time-preflight';
import { defineSteps, domainInUse, reportDetail } from './support';
import { runLeaseHolder, takeLease } from './lease';

const refuse = (message: string) => ApplicationFailure.create({ type: CLONE_REFUSED, message, nonRetryable: true });

/** Where the old target database waits while the clone runs (fits PostgreSQL's 63 chars). */
export const setAsideName = (database: string) => `${database}__set_aside`;

export function checkRequestActivities({
  databases,
  directory,
  hosting,
  mailService,
  profiles,
  sandboxDomains,
  client,
  pointInTimeRetention,
}: CrossSystemDeps) {
  return defineSteps(null, {
    async checkRequest({ stepId, request }) {
      const { source, target, targetKind, mailDomain } = request;
      const profile = profileFor(profiles, request.plan);
      const badDomain = sandboxDomainRefusal(mailDomain, sandboxDomains);
      if (badDomain) throw refuse(badDomain);
      const [src, tgt] = await Promise.all([directory.getTenant(source), directory.getTenant(target)]);
      if (!src) throw refuse(`source tenant ${source} is unknown to the directory`);
      if (!tgt) throw refuse(`target tenant ${target} is unknown to the directory`);
      if (tgt.kind === 'production') throw refuse(`target ${target} is a production tenant: only sandbox and test tenants can be overwritten by a clone`);
      if (targetKind && tgt.kind !== targetKind) throw refuse(`target ${target} is a ${tgt.kind} tenant, but the request says ${targetKind}`);
      if (src.directoryTenant !== tgt.directoryTenant) {
        throw refuse(
          `source ${source} (directory tenant ${src.directoryTenant}) and target ${target} (directory tenant ${tgt.directoryTenant}) belong to different customers`,
        );
      }
      if (src.database.engine !== tgt.database.engine) {
        throw refuse(`source ${source} lives on ${src.database.engine} and target ${target} on ${tgt.database.engine}: a clone cannot cross database engines`);
      }
      if (!databases.has(src.database.engine)) throw refuse(`${source} and ${target} live on ${src.database.engine}, which this worker has no server for`);
      const db = databases.for(src.database.engine);
      if (!(await db.exists(src.database.name))) throw refuse(`source database ${src.database.name} of ${source} does not exist`);
      const setAside = setAsideName(tgt.database.name);
      if (await db.exists(setAside)) {
        throw refuse(
          `an earlier clone left ${target}'s old database set aside as ${setAside}; rename it back to ${tgt.database.name} or drop it before cloning again`,
        );
      }
      const missing = await db.missingProfileNames(src.database.name, profile);
      if (missing.length > 0) {
        throw refuse(`the sanitization profile ${profile.name} names what ${source}'s database ${src.database.name} does not have: ${missing.join(', ')}`);
      }
      const size = await db.sizeBytes(src.database.name);
      if (size > tgt.capacityMb * 1024 * 1024) {
        throw refuse(`source database is ${(size / 1048576).toFixed(0)} MB, more than the ${tgt.capacityMb} MB capacity of ${target}`);
      }
      let restoredFrom = '';
      if (request.plan === 'point-in-time') {
        reportDetail(stepId, `preflight: can ${source} be restored as of ${request.pointInTime}?`);
        const preflight = await pointInTimePreflight(db, src, tgt, request.pointInTime!, pointInTimeRetention, Date.now());
        if ('refusal' in preflight) throw refuse(preflight.refusal);
        restoredFrom = `, ${preflight.detail}`;
      }
      // Last, being the slowest: a sandbox domain already used by real addresses in the source
      // would make rewritten and real addresses indistinguishable in the copy.
      reportDetail(stepId, `looking for addresses at ${mailDomain} in ${src.database.name}`);
      const inUse = domainInUse(source, mailDomain, await db.countAddressesAt(src.database.name, mailDomain));
      if (inUse) throw refuse(`${inUse}: the copy could not tell rewritten addresses from real ones; choose another sandbox domain, e.g. ${target}.invalid`);
      // The one change a passing check makes, and only once every check has passed: the target is
      // this run's until the clone ends.
      const leaseHolder = runLeaseHolder();
      const owned = await takeLease(directory, client, target, leaseHolder);
      if (owned) throw refuse(owned);
      const [srcHosting, tgtHosting, routes, mailboxes, users, hadDatabase] = await Promise.all([
        hosting.getState(source),
        hosting.getState(target),
        mailService.listRoutes(target),
        mailService.listMailboxes(target),
        directory.listUsers(target),
        db.exists(tgt.database.name),
      ]);
      return {
        before: {
          hostingMode: tgtHosting.mode,
          clusters: tgtHosting.clusters,
          directoryState: tgt.state,
          routes,
          mailboxes,
          testEnvironmentOf: tgt.testEnvironmentOf,
          registeredDatabase: tgt.registeredDatabase,
          users,
          company: { companyName: tgt.companyName, serial: tgt.serial, license: tgt.license },
        },
        facts: {
          engine: src.database.engine,
          leaseHolder,
          targetKind: tgt.kind === 'test' ? 'test' : 'sandbox',
          sourceDatabase: src.database.name,
          targetDatabase: tgt.database.name,
          setAsideDatabase: setAside,
          targetHadDatabase: hadDatabase,
          sourceBaseUrl: src.baseUrl,
          targetBaseUrl: tgt.baseUrl,
          targetCompanyName: tgt.companyName,
          targetSerial: tgt.serial,
          targetLicense: tgt.license,
          sourceClusters: srcHosting.clusters,
          testMailbox: `${target}@${mailDomain}`,
        },
        note: `${source} (${(size / 1048576).toFixed(1)} MB) → ${tgt.kind} ${target}${restoredFrom}: accepted`,
      };
    },
  });
}
