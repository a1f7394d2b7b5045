/**
 * Which domains a sandbox's addresses may be rewritten into. Pure code, shared by the client
 * (refuses a public mail provider before anything is sent), the workflow (re-checks what it is
 * given) and the worker (its configured allowlist).
 *
 * A sandbox domain must be a sink: a domain whose mail reaches no real person's mailbox. The
 * defaults are mailinator.com (seed 000) and the names reserved for exactly this (RFC 2606 and
 * RFC 6761): *.invalid, *.test, *.example and example.com / .net / .org. A public mail provider
 * can never be one, whatever the configuration says.
 */

export const DEFAULT_SANDBOX_DOMAINS = ['mailinator.com', '*.invalid', '*.test', '*.example', 'example.com', 'example.net', 'example.org'];

/** Top-level names reserved so that no mail to them is ever delivered (RFC 2606, RFC 6761). */
const RESERVED_TLDS = ['invalid', 'test', 'example', 'localhost'];

/**
 * Public mail providers: an address there belongs to a real person. A domain is refused when it
 * is one of these or a subdomain of one. The `*` entries stand for any country ending
 * (yahoo.co.uk, gmx.de…).
 */
export const PUBLIC_MAIL_PROVIDERS = [
  'gmail.com',
  'googlemail.com',
  'google.com',
  'outlook.com',
  'outlook.*',
  'hotmail.com',
  'hotmail.*',
  'live.com',
  'live.*',
  'msn.com',
  'passport.com',
  'windowslive.com',
  'yahoo.com',
  'yahoo.*',
  'ymail.com',
  'rocketmail.com',
  'aol.com',
  'aim.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'proton.me',
  'protonmail.com',
  'protonmail.ch',
  'pm.me',
  'gmx.com',
  'gmx.net',
  'gmx.*',
  'web.de',
  't-online.de',
  'freenet.de',
  'mail.com',
  'email.com',
  'zoho.com',
  'zohomail.com',
  'yandex.com',
  'yandex.ru',
  'yandex.*',
  'ya.ru',
  'mail.ru',
  'bk.ru',
  'inbox.ru',
  'list.ru',
  'rambler.ru',
  'qq.com',
  'foxmail.com',
  '163.com',
  '126.com',
  'yeah.net',
  'sina.com',
  'sohu.com',
  'naver.com',
  'daum.net',
  'hanmail.net',
  'fastmail.com',
  'fastmail.fm',
  'hey.com',
  'tutanota.com',
  'tuta.io',
  'tutamail.com',
  'posteo.de',
  'mailbox.org',
  'orange.fr',
  'wanadoo.fr',
  'free.fr',
  'laposte.net',
  'sfr.fr',
  'libero.it',
  'virgilio.it',
  'tiscali.it',
  'alice.it',
  'seznam.cz',
  'wp.pl',
  'o2.pl',
  'interia.pl',
  'onet.pl',
  'btinternet.com',
  'sky.com',
  'virginmedia.com',
  'ntlworld.com',
  'comcast.net',
  'verizon.net',
  'att.net',
  'sbcglobal.net',
  'bellsouth.net',
  'cox.net',
  'charter.net',
  'earthlink.net',
  'rediffmail.com',
  'bigpond.com',
  'optusnet.com.au',
  'shaw.ca',
  'rogers.com',
  'sympatico.ca',
  'telus.net',
  'uol.com.br',
  'bol.com.br',
  'terra.com.br',
  'online.no',
  'telia.com',
  'bredband.net',
  'hotmail.no',
  'start.no',
];

const DOMAIN = /^(?=.{3,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const PATTERN = /^(\*\.)?(?=.{2,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/** The public provider `domain` is (or is under), or null. */
export function publicProviderOf(domain: string): string | null {
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const tail = labels.slice(i).join('.');
    for (const p of PUBLIC_MAIL_PROVIDERS) {
      if (tail === p) return p;
      // yahoo.* : yahoo.<country> or yahoo.co.<country>, a country ending of one or two short labels.
      if (p.endsWith('.*') && tail.startsWith(p.slice(0, -1)) && /^([a-z]{2,3}\.)?[a-z]{2,3}$/.test(tail.slice(p.length - 1))) return tail;
    }
  }
  return null;
}

/** Why `pattern` cannot be a sandbox-domain setting, or null when it can. */
export function badSandboxPattern(pattern: string): string | null {
  if (!PATTERN.test(pattern)) return 'not a domain name or a *.domain pattern';
  const rest = pattern.replace(/^\*\./, '');
  const provider = publicProviderOf(rest);
  if (provider) return `${provider} is a public mail provider: its addresses belong to real people`;
  if (pattern.startsWith('*.') && !rest.includes('.') && !RESERVED_TLDS.includes(rest)) {
    return `*.${rest} would allow every domain under a public top-level name; only the reserved ${RESERVED_TLDS.map((t) => `*.${t}`).join(', ')} may stand alone`;
  }
  if (pattern.startsWith('*.') && /^(co|com|net|org|ac|gov|edu|ne|or|go|gv|gob|nic)\.[a-z]{2}$/.test(rest)) {
    return `*.${rest} would allow every domain under the public suffix ${rest}`;
  }
  if (!pattern.startsWith('*.') && !rest.includes('.')) return 'a single label cannot receive mail';
  return null;
}

/** Whether `domain` is allowed by one of `patterns` (`*.x` allows every name under x, not x itself). */
export function allowedBy(domain: string, patterns: readonly string[]): string | null {
  for (const p of patterns) {
    if (p.startsWith('*.') ? domain.endsWith(p.slice(1)) && domain.length > p.length - 1 : domain === p) return p;
  }
  return null;
}

/** The syntax every sandbox domain must have, whatever the allowlist: a DNS name of two labels or more. */
export function isDomainName(domain: string): boolean {
  return DOMAIN.test(domain);
}

/**
 * Why `domain` cannot be this clone's sandbox domain under the worker's allowlist, or null.
 * (Whether the source already uses it is a question for its data: see check-request.)
 */
export function sandboxDomainRefusal(domain: string, allowed: readonly string[]): string | null {
  if (!isDomainName(domain)) return `mail domain ${JSON.stringify(domain)} is invalid: expected a domain name such as mailinator.com`;
  const provider = publicProviderOf(domain);
  if (provider) return `mail domain ${domain} is refused: ${provider} is a public mail provider, so its addresses belong to real people`;
  if (!allowedBy(domain, allowed)) {
    return `mail domain ${domain} is not an allowed sandbox domain (SANDBOX_MAIL_DOMAINS allows ${allowed.join(', ')}); add it there if its mail reaches no real person`;
  }
  return null;
}
