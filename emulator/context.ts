/** What every route group needs: the database and the emulator's settings. */
import type { Pool } from 'pg';

export interface EmulatorContext {
  pool: Pool;
  webhookSecret: string;
  /** Default duration of a seeded or queued task without its own. */
  taskDurationMs: number;
  /** How long a hosting operation stays pending before it is applied. */
  operationDelayMs: number;
}
