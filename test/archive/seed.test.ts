import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AzureBlobArchives } from '../../activities/archive/azure-blob';
import { seedArchives } from '../../stack/seed/archives';
import { startAzurite, type AzuriteHandle } from '../../stack/services/ephemeral-azurite';

describe('seedArchives on Azurite', () => {
  let azurite: AzuriteHandle;
  let archives: AzureBlobArchives;
  before(async () => {
    azurite = await startAzurite();
    archives = new AzureBlobArchives({ azure: azurite.connectionString, soarc: azurite.secondConnectionString });
  });
  after(async () => {
    await azurite?.close();
  });

  test('puts templates, documents and module attachments into both systems', async () => {
    const summary = await seedArchives(archives, 'demo', { templates: 5, documents: 7, attachmentsPerModule: 3 });
    for (const system of ['azure', 'soarc'] as const) {
      const templates = await archives.list({ system, tenant: 'demo', kind: 'templates' });
      const documents = await archives.list({ system, tenant: 'demo', kind: 'documents' });
      const attachments = await archives.list({ system, tenant: 'demo', kind: 'attachments' });
      assert.equal(templates.length, 5);
      assert.ok(templates.some((b) => b.name === 'letters/welcome.docx'));
      assert.equal(documents.length, 7);
      for (const module of ['crm', 'sale', 'project', 'service']) {
        assert.equal(attachments.filter((b) => b.name.startsWith(`${module}/`)).length, 3, module);
      }
      for (const b of [...templates, ...documents, ...attachments]) {
        assert.ok(b.size > 0 && b.md5 !== null, b.name);
      }
      const bytes = attachments.reduce((s, b) => s + b.size, 0);
      assert.deepEqual(
        summary.find((s) => s.system === system && s.kind === 'attachments'),
        {
          system,
          kind: 'attachments',
          blobs: 12,
          bytes,
        },
      );
    }
  });

  test('seeding again writes the same content, and other modules can be chosen', async () => {
    const at = { system: 'soarc' as const, tenant: 'again', kind: 'documents' as const };
    await seedArchives(archives, 'again', { templates: 2, documents: 4, attachmentsPerModule: 0 });
    const first = await archives.list(at);
    await seedArchives(archives, 'again', { templates: 2, documents: 4, attachmentsPerModule: 0 });
    assert.deepEqual(await archives.list(at), first);

    await seedArchives(archives, 'mods', { templates: 0, documents: 0, attachmentsPerModule: 2, modules: ['invoice'] });
    const names = (await archives.list({ system: 'azure', tenant: 'mods', kind: 'attachments' })).map((b) => b.name);
    assert.equal(names.length, 2);
    assert.ok(names.every((n) => n.startsWith('invoice/')));
  });

  test('bad options are refused naming the value', async () => {
    await assert.rejects(seedArchives(archives, 'demo', { documents: -1 }), /-1/);
    await assert.rejects(seedArchives(archives, 'demo', { modules: ['Service Desk'] }), /'Service Desk'/);
    await assert.rejects(seedArchives(archives, 'Bad_Tenant'), /'Bad_Tenant-templates'/);
  });
});
