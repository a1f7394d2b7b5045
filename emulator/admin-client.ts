/** Typed client for the emulator-only /_emulator endpoints, for tests, the stack and the demo. */
import { JsonHttpClient, segment } from '../activities/platform/http-client';
import type { PartnerApp } from '../activities/platform/port';
import { z } from 'zod';
import type { TenantFullState, TenantSeed, WebhookDelivery } from './types';

export type { HostingSeed, TenantSeed, TenantFullState, WebhookDelivery, HostingOperation, TenantEvent, HostingTask } from './types';

// The emulator is ours: its answers are trusted, only their top-level shape is checked.
const anyObject = z.record(z.string(), z.unknown());

export class EmulatorAdmin {
  private readonly http: JsonHttpClient;

  constructor(url: string) {
    this.http = new JsonHttpClient(url, { timeoutMs: 30_000 });
  }

  /** Forget every tenant, app, delivery and rehearsed failure. */
  async reset(): Promise<void> {
    await this.http.post('/_emulator/reset', {});
  }

  /** Create or wholly replace a tenant with its hosting, mail and directory users. */
  async putTenant(seed: TenantSeed): Promise<void> {
    await this.http.put(`/_emulator/tenants/${segment('tenant id', seed.id)}`, seed);
  }

  /** Everything the platform holds for the tenant, with due hosting operations applied. */
  async state(tenantId: string): Promise<TenantFullState> {
    return (await this.http.get(`/_emulator/tenants/${segment('tenant id', tenantId)}`, anyObject)) as unknown as TenantFullState;
  }

  /** Queue a task that runs for `durationMs` (default: the emulator's taskDurationMs). */
  async queueTask(tenantId: string, durationMs?: number): Promise<number> {
    const body = await this.http.post(
      `/_emulator/tenants/${segment('tenant id', tenantId)}/tasks`,
      durationMs === undefined ? {} : { durationMs },
      z.object({ taskId: z.number() }),
    );
    return body!.taskId;
  }

  async putApp(app: PartnerApp): Promise<void> {
    await this.http.put(`/_emulator/apps/${segment('app id', app.appId)}`, app);
  }

  /** The sink URL to register as a partner app's webhookUrl. */
  sinkUrl(appId: string): string {
    return `${this.http.baseUrl}/_emulator/sink/${segment('app id', appId)}`;
  }

  /** Make the sink answer `status` (default 503) to the next `count` deliveries for the app. */
  async failNextDeliveries(appId: string, count: number, status?: number): Promise<void> {
    await this.http.put(`/_emulator/sink/${segment('app id', appId)}/failures`, status === undefined ? { count } : { count, status });
  }

  /** Every delivery the sink received, oldest first; optionally for one app only. */
  async deliveries(appId?: string): Promise<WebhookDelivery[]> {
    const query = appId === undefined ? '' : `?appId=${encodeURIComponent(appId)}`;
    const body = await this.http.get(`/_emulator/sink${query}`, z.object({ deliveries: z.array(anyObject) }));
    return body.deliveries as unknown as WebhookDelivery[];
  }
}
