/**
 * What counts as an e-mail address token, and what counts as one left outside the sandbox, in
 * words both engines implement. The rewrite (each engine's SQL functions) and the independent
 * verification (a plain pattern over every value) are built from these lists, so they agree
 * on every boundary case without sharing code.
 *
 * - An address token is a run of characters other than the separators below (a backslash is
 *   one, so JSON escapes such as \" stay whole) that holds an "at" in any of its forms: `@`, the full-width `＠` (U+FF20), `%40` (URL encoding), `&#64;` /
 *   `&#x40;` (HTML/XML character references, leading zeros allowed) and `\u0040` (JSON and
 *   JavaScript escapes). Every form decodes to `@` in its own context, so each is an address.
 * - Rewrite (seed 000): the token's domain is what follows its last "at"; every earlier "at"
 *   becomes `_`; the result is `<local>_<domain lower-cased>@<sandbox>`. Obfuscated forms are
 *   written back as a plain `@`, which means the same in the context they came from.
 * - Left as they are: a token whose only "at" is followed by exactly the sandbox domain, and a
 *   handle: a token that starts with its only "at" and holds no dot (`@media`, `@acme`,
 *   `@Override`, `@types/node`), which no mail system can deliver to.
 * - Verification: every "at" in a value must be directly followed by the sandbox domain and a
 *   character that cannot continue a domain name, unless it starts a handle.
 */

/** Characters that end a token (regular-expression bracket body, both engines' meaning). */
export const SEPARATOR_CHARS = ['\t', '\n', '\v', '\f', '\r', ' ', ',', ';', '<', '>', '"', '(', ')', "'", '{', '}', '\\'];

/** The forms of "at", as a case-insensitive regular expression (PostgreSQL ARE syntax). */
export const AT_FORMS_RE = String.raw`(?:@|＠|%40|&#0*64;|&#[xX]0*40;|\\[uU]0040)`;

/** Dots that separate domain labels (IDNA treats the three non-ASCII ones as dots too). */
export const DOT_CHARS = ['.', '．', '。', '｡'];

/**
 * Characters that may follow the sandbox domain without extending it: the separators, the end
 * of a value, URL and array punctuation, and a backslash that does not start a `\u` escape.
 */
export const AFTER_DOMAIN_CHARS = ['/', ':', '?', '#', '!', '|', '*', '+', '=', '^', '~', '$', '[', ']'];
