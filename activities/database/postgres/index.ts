export { PostgresTenantDatabase, type PostgresTenantDatabaseOptions } from './engine';
export { tenantDatabaseName } from './identifiers';
