import type { ArchiveKind, ArchiveSystem, Archives } from '../../activities/archive/port';

export interface SeedArchivesOptions {
  /** Templates per system (default 12). */
  templates?: number;
  /** Documents per system (default 40). */
  documents?: number;
  /** Attachments per module per system (default 10). */
  attachmentsPerModule?: number;
  /** Attachment modules (default crm, sale, project, service). */
  modules?: string[];
}

export interface SeededArchive {
  system: ArchiveSystem;
  kind: ArchiveKind;
  blobs: number;
  bytes: number;
}

const SYSTEMS: readonly ArchiveSystem[] = ['azure', 'soarc'];
const DEFAULT_MODULES = ['crm', 'sale', 'project', 'service'];
const MODULE_NAME = /^[a-z][a-z0-9-]*$/;
const UPLOAD_CONCURRENCY = 8;

const TEMPLATE_NAMES = [
  'letters/welcome.docx',
  'letters/reminder.docx',
  'letters/thank-you.docx',
  'letters/price-change.docx',
  'quotes/standard-quote.docx',
  'quotes/service-quote.docx',
  'invoices/invoice.dotx',
  'invoices/credit-note.dotx',
  'contracts/service-agreement.docx',
  'contracts/nda.docx',
  'mail/newsletter.html',
  'mail/follow-up.html',
  'reports/monthly-sales.xlsx',
  'reports/pipeline.xlsx',
  'labels/envelope-c5.docx',
  'forms/order-form.pdf',
];
const DOCUMENT_KINDS = ['contract', 'offer', 'invoice', 'minutes', 'proposal', 'letter', 'report', 'order'];
const DOCUMENT_EXTS = ['pdf', 'docx', 'xlsx', 'pdf', 'msg'];
const ATTACHMENT_FILES: Record<string, string[]> = {
  crm: ['business-card.png', 'meeting-notes.pdf', 'org-chart.pdf', 'email-thread.msg'],
  sale: ['signed-offer.pdf', 'price-list.xlsx', 'order-confirmation.pdf', 'spec-sheet.pdf'],
  project: ['gantt.xlsx', 'kickoff-slides.pptx', 'requirements.docx', 'status-report.pdf'],
  service: ['screenshot.png', 'error-log.txt', 'customer-reply.msg', 'invoice-copy.pdf'],
};
const GENERIC_FILES = ['file.pdf', 'notes.txt', 'image.jpg', 'document.docx'];
const WORDS = (
  'customer order invoice meeting agreed delivery quarter follow-up contact service ticket project ' +
  'milestone budget offer discount signature renewal support request priority update report'
).split(' ');

/** A small deterministic generator, so re-seeding writes the same bytes (and the same MD5s). */
function random(seed: string): () => number {
  let h = 2166136261;
  for (const c of seed) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return () => {
    h += 0x6d2b79f5;
    let t = h;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function body(rand: () => number, title: string, tenant: string, minBytes: number, maxBytes: number): string {
  const target = minBytes + Math.floor(rand() * (maxBytes - minBytes));
  let text = `${title}\nTenant: ${tenant}\n\n`;
  while (text.length < target) {
    const n = 6 + Math.floor(rand() * 10);
    const sentence = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ');
    text += sentence.charAt(0).toUpperCase() + sentence.slice(1) + '.\n';
  }
  return text;
}

function count(name: string, value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > 100_000) throw new Error(`seedArchives: invalid ${name} ${String(n)}`);
  return n;
}

function blobsFor(system: ArchiveSystem, tenant: string, o: Required<SeedArchivesOptions>) {
  const rand = random(`${tenant}/${system}`);
  const out: { kind: ArchiveKind; name: string; body: string }[] = [];
  for (let i = 0; i < o.templates; i++) {
    const base = TEMPLATE_NAMES[i % TEMPLATE_NAMES.length];
    const round = Math.floor(i / TEMPLATE_NAMES.length);
    const name = round === 0 ? base : base.replace(/(\.[a-z]+)$/, `-v${round + 1}$1`);
    out.push({ kind: 'templates', name, body: body(rand, `Template ${name}`, tenant, 300, 2_000) });
  }
  for (let i = 0; i < o.documents; i++) {
    const year = 2021 + (i % 4);
    const month = String(1 + Math.floor(rand() * 12)).padStart(2, '0');
    const kind = DOCUMENT_KINDS[Math.floor(rand() * DOCUMENT_KINDS.length)];
    const ext = DOCUMENT_EXTS[Math.floor(rand() * DOCUMENT_EXTS.length)];
    const name = `${year}/${month}/${kind}-${10_000 + i}.${ext}`;
    out.push({ kind: 'documents', name, body: body(rand, `${system} document ${name}`, tenant, 500, 8_000) });
  }
  for (const module of o.modules) {
    const files = ATTACHMENT_FILES[module] ?? GENERIC_FILES;
    for (let i = 0; i < o.attachmentsPerModule; i++) {
      const name = `${module}/${module}-${1_000 + i}/${files[i % files.length]}`;
      out.push({ kind: 'attachments', name, body: body(rand, `Attachment ${name}`, tenant, 200, 4_000) });
    }
  }
  return out;
}

/**
 * Puts realistic archives for `tenant` into both archive systems: templates, documents and
 * attachments under module prefixes. Deterministic, so seeding twice leaves the same content.
 */
export async function seedArchives(archives: Archives, tenant: string, opts: SeedArchivesOptions = {}): Promise<SeededArchive[]> {
  const modules = opts.modules ?? DEFAULT_MODULES;
  for (const m of modules) {
    if (typeof m !== 'string' || !MODULE_NAME.test(m)) throw new Error(`seedArchives: invalid module name '${String(m)}'`);
  }
  const o: Required<SeedArchivesOptions> = {
    templates: count('templates count', opts.templates, 12),
    documents: count('documents count', opts.documents, 40),
    attachmentsPerModule: count('attachments per module', opts.attachmentsPerModule, 10),
    modules,
  };

  const summary: SeededArchive[] = [];
  for (const system of SYSTEMS) {
    const blobs = blobsFor(system, tenant, o);
    let next = 0;
    const upload = async () => {
      while (next < blobs.length) {
        const b = blobs[next++];
        await archives.put({ system, tenant, kind: b.kind }, b.name, b.body);
      }
    };
    await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, upload));
    for (const kind of ['templates', 'documents', 'attachments'] as const) {
      const ofKind = blobs.filter((b) => b.kind === kind);
      summary.push({ system, kind, blobs: ofKind.length, bytes: ofKind.reduce((s, b) => s + Buffer.byteLength(b.body), 0) });
    }
  }
  return summary;
}
