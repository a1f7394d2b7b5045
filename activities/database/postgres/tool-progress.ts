/**
 * Recognises, in pg_dump / pg_restore --verbose output, the line that marks one table's data
 * as done. In parallel mode a worker prints "dumping contents of table" / "processing data for
 * table" when it starts an item and the leader prints "finished item N TABLE DATA" when it
 * ends, so counting both would count every table twice; a serial run prints only the former.
 */

const FINISHED_TABLE_DATA = /finished item \d+ TABLE DATA /;
const DUMP_STARTED = /dumping contents of table /;
const RESTORE_STARTED = /processing data for table /;

/** True when `line` of `pg_dump --verbose --jobs=<jobs>` marks one more table dumped. */
export function isTableDumped(line: string, jobs: number): boolean {
  return jobs > 1 ? FINISHED_TABLE_DATA.test(line) : DUMP_STARTED.test(line);
}

/** True when `line` of `pg_restore --verbose --jobs=<jobs>` marks one more table restored. */
export function isTableRestored(line: string, jobs: number): boolean {
  return jobs > 1 ? FINISHED_TABLE_DATA.test(line) : RESTORE_STARTED.test(line);
}

/** Tables with data in an archive, from `pg_restore --list` output. */
export function tableDataItems(toc: string): number {
  return toc.split('\n').filter((l) => !l.startsWith(';') && / TABLE DATA /.test(l)).length;
}
