export { MssqlTenantDatabase, type MssqlTenantDatabaseOptions } from './engine';
