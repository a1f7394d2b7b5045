/** The partner-app registry part of the contract. */
import type { EmulatorContext } from './context';
import { HttpError } from './http-io';
import type { Router } from './router';

export function addAppRoutes(router: Router, ctx: EmulatorContext): void {
  router.add('GET', '/apps/{appId}', async ({ params }) => {
    const { rows } = await ctx.pool.query<{ app_id: string; name: string; webhook_url: string }>(
      'SELECT app_id, name, webhook_url FROM partner_apps WHERE app_id = $1',
      [params.appId],
    );
    const app = rows[0];
    if (!app) throw new HttpError(404, `unknown partner app ${JSON.stringify(params.appId)}`, 'unknown_app');
    return { status: 200, body: { appId: app.app_id, name: app.name, webhookUrl: app.webhook_url } };
  });
}
