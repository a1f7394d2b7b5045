// The workflows this worker registers (the bundle's entry point).
export { cloneTenant } from './clone-tenant';
export { backupTenant } from './backup-tenant';
export { checkProfile } from './profile-check';
export { backupServer } from './backup-server';
export { refreshSandbox } from './refresh-sandbox';
