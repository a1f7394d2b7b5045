/**
 * sqlfluff's T-SQL dialect as a second parser for the SQL Server engine's batches: it reads
 * control flow (IF/BEGIN/END, DECLARE, THROW, EXEC) that node-sql-parser cannot, and it knows
 * T-SQL's reserved words. test/run.sh installs it (Debian package `sqlfluff`) when missing.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const SQLFLUFF_VERSION_OF_RECORD = '1.4.5';

function binary(): string {
  return process.env.SQLFLUFF || 'sqlfluff';
}

export async function sqlfluffVersion(): Promise<string> {
  try {
    const { stdout } = await run(binary(), ['--version']);
    return /version (\S+)/.exec(stdout)?.[1] ?? stdout.trim();
  } catch (err) {
    throw new Error(
      `sqlfluff is not installed (${(err as Error).message.split('\n')[0]}): 'apt-get install sqlfluff' or 'pip install sqlfluff==${SQLFLUFF_VERSION_OF_RECORD}' (test/run.sh installs it)`,
    );
  }
}

/** The first unparsable stretch of each file's parse tree, by file name; files that parse are absent. */
export async function unparsableTsql(files: Record<string, string>): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tsql-sqlfluff-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(path.join(dir, `${name}.sql`), `${text}\n`);
    // Exit code 1 means "parsing violations found"; the JSON on stdout says which.
    const { stdout } = await run(binary(), ['parse', '--dialect', 'tsql', '--format', 'json', '--nofail', dir], {
      maxBuffer: 256 * 1024 * 1024,
      timeout: 300_000,
    });
    const parsed = JSON.parse(stdout) as { filepath: string; segments: unknown }[];
    const out: Record<string, string> = {};
    for (const f of parsed) {
      const bad = firstUnparsable(f.segments);
      if (bad !== null) out[path.basename(f.filepath, '.sql')] = bad;
    }
    const seen = new Set(parsed.map((f) => path.basename(f.filepath, '.sql')));
    for (const name of Object.keys(files)) if (!seen.has(name)) out[name] = 'no parse tree returned';
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function firstUnparsable(node: unknown): string | null {
  if (Array.isArray(node)) {
    for (const n of node) {
      const r = firstUnparsable(n);
      if (r !== null) return r;
    }
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === 'unparsable') return rawText(v).replace(/\s+/g, ' ').slice(0, 80);
      const r = firstUnparsable(v);
      if (r !== null) return r;
    }
  }
  return null;
}

function rawText(node: unknown): string {
  if (typeof node === 'string') return node;
  if (Array.isArray(node)) return node.map(rawText).join('');
  if (node && typeof node === 'object') return Object.values(node).map(rawText).join('');
  return '';
}
