/**
 * Just enough MIME reading for tests to look at what a real SMTP client sent: headers (unfolded,
 * RFC 2047 encoded words decoded) and the first text/plain body (quoted-printable or base64).
 * Bodies are assumed UTF-8, which is what nodemailer writes.
 */
export interface ParsedMessage {
  headers: Map<string, string>;
  text: string;
}

function splitHead(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
}

function parseHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  // A line starting with white space continues the previous header (folding).
  const unfolded = head.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(key)) headers.set(key, line.slice(colon + 1).trim());
  }
  return headers;
}

function qpBytes(text: string, underscoreIsSpace: boolean): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '_' && underscoreIsSpace) {
      bytes.push(0x20);
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

export function decodeQuotedPrintable(body: string): string {
  return qpBytes(body.replace(/=\r?\n/g, ''), false).toString('utf8');
}

/** Decodes `=?UTF-8?Q?...?=` / `=?UTF-8?B?...?=` words; adjacent words are joined before decoding. */
export function decodeEncodedWords(value: string): string {
  const word = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g;
  let out = '';
  let last = 0;
  let pending: Buffer[] = [];
  const flush = () => {
    if (pending.length) out += Buffer.concat(pending).toString('utf8');
    pending = [];
  };
  for (let m = word.exec(value); m !== null; m = word.exec(value)) {
    const between = value.slice(last, m.index);
    // White space between two encoded words is not part of the text (RFC 2047 §6.2).
    if (!(pending.length && /^\s*$/.test(between))) {
      flush();
      out += between;
    }
    pending.push(m[2].toUpperCase() === 'B' ? Buffer.from(m[3], 'base64') : qpBytes(m[3], true));
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '7bit').toLowerCase()) {
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

function boundaryOf(contentType: string): string | null {
  const m = /boundary="?([^";]+)"?/i.exec(contentType);
  return m ? m[1] : null;
}

function findText(head: Map<string, string>, body: string): string | null {
  const type = head.get('content-type') ?? 'text/plain';
  if (/^multipart\//i.test(type)) {
    const boundary = boundaryOf(type);
    if (!boundary) return null;
    const parts = body.split(`--${boundary}`).slice(1);
    for (const part of parts) {
      if (part.startsWith('--')) break;
      const { head: ph, body: pb } = splitHead(part.replace(/^\r?\n/, ''));
      const found = findText(parseHeaders(ph), pb.replace(/\r?\n$/, ''));
      if (found !== null) return found;
    }
    return null;
  }
  if (/^text\/plain/i.test(type)) return decodeBody(body, head.get('content-transfer-encoding'));
  return null;
}

export function parseMessage(raw: string): ParsedMessage {
  const { head, body } = splitHead(raw);
  const headers = parseHeaders(head);
  for (const [k, v] of headers) headers.set(k, decodeEncodedWords(v));
  // SMTP framing makes a final line break indistinguishable from the DATA terminator's, so
  // trailing line breaks are not part of the text.
  const text = (findText(headers, body) ?? '').replace(/\r\n/g, '\n').replace(/\n+$/, '');
  return { headers, text };
}
