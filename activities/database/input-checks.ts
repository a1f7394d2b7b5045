/** Checks of caller values, shared by every engine's data operations; errors name the bad value. */
import type { AppAuthorization, CompanyInfo, TenantIdentity } from './port';
import type { SanitizationProfile } from './profile';

export function checkLogin(kind: string, login: string): string {
  if (typeof login !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$/.test(login)) {
    throw new Error(`invalid ${kind} ${JSON.stringify(login)}: 1-100 characters of letters, digits and . _ @ + -`);
  }
  return login;
}

export function checkPlan(plan: string): string {
  if (typeof plan !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,39}$/.test(plan)) {
    throw new Error(`invalid user plan ${JSON.stringify(plan)}: 1-40 characters of letters, digits, space . _ -`);
  }
  return plan;
}

export function checkMailbox(address: string): string {
  if (typeof address !== 'string' || !/^[^\s@<>,;"]+@[^\s@<>,;"]+\.[^\s@<>,;"]+$/.test(address) || address.length > 254) {
    throw new Error(`invalid test mailbox address ${JSON.stringify(address)}`);
  }
  return address;
}

export function checkBaseUrl(kind: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`invalid ${kind} ${JSON.stringify(value)}: not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`invalid ${kind} ${JSON.stringify(value)}: must be http(s)`);
  return value.replace(/\/+$/, '');
}

export function checkIdentity(identity: TenantIdentity): void {
  if (!/^[a-z][a-z0-9-]{1,40}$/.test(identity?.tenantId ?? '')) throw new Error(`invalid tenant id ${JSON.stringify(identity?.tenantId)}`);
  if (!identity.companyName?.trim()) throw new Error(`invalid company name ${JSON.stringify(identity.companyName)}: must not be empty`);
  if (!identity.serial?.trim()) throw new Error(`invalid serial ${JSON.stringify(identity.serial)}: must not be empty`);
  checkBaseUrl('target base URL', identity.baseUrl);
}

export function checkCompanyInfo(info: CompanyInfo): void {
  for (const f of ['companyName', 'serial', 'license', 'ownerCompany'] as const) {
    const v = info?.[f];
    if (typeof v !== 'string' || !v.trim() || v.length > 200) throw new Error(`invalid company info ${f} ${JSON.stringify(v)}: 1-200 characters`);
  }
}

export function checkAppAuthorizations(auths: AppAuthorization[]): void {
  if (!Array.isArray(auths)) throw new Error('invalid app authorizations: expected an array');
  for (const a of auths) {
    if (!a || typeof a.appId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(a.appId)) {
      throw new Error(`invalid app authorization app id ${JSON.stringify(a?.appId)}`);
    }
    if (typeof a.appName !== 'string' || !a.appName.trim() || a.appName.length > 200) {
      throw new Error(`invalid app authorization name ${JSON.stringify(a.appName)} for app ${a.appId}`);
    }
    checkLogin(`system user login of app ${a.appId}`, a.systemUserLogin);
  }
}

/**
 * The profile's administrator (seed 003) and the address it is reset to, both checked: a
 * profile without one cannot restrict a copy's users to it.
 */
export function checkAdministrator(profile: SanitizationProfile, email: string | null): NonNullable<SanitizationProfile['users']['administrator']> {
  const admin = profile.users.administrator;
  if (!admin) throw new Error(`the sanitization profile ${profile.name} names no users.administrator, so its users cannot be restricted to one`);
  checkLogin('administrator login', admin.login);
  if (email !== null && (typeof email !== 'string' || email.length > 254 || /[\s\0]/.test(email))) {
    throw new Error(`invalid administrator address ${JSON.stringify(email)}: at most 254 characters, no spaces`);
  }
  return admin;
}
