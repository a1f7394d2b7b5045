import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SmtpMailer } from '../../activities/mail/smtp';
import { startSmtpCapture, type SmtpCapture } from '../support/smtp';

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', () => resolve()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('SmtpMailer against a real SMTP server', () => {
  let smtp: SmtpCapture;
  before(async () => {
    smtp = await startSmtpCapture();
  });
  after(async () => {
    await smtp.close();
  });

  test('delivers a mail with the right recipient, subject and text', async () => {
    const mailer = new SmtpMailer({ host: smtp.host, port: smtp.port, from: 'tenant-clone@example.test' });
    try {
      const subject = 'Sandkassen acme-sandbox er klar – velkommen, Åse';
      const text =
        'Hei Åse,\n\nDin testpostkasse er opprettet: test@acme-sandbox.mailinator.com\n' +
        'En lang linje som er lengre enn syttiseks tegn, slik at quoted-printable må bryte den mykt = ok.\n';
      const sent = await mailer.send({ to: 'ase.berg_company.com@mailinator.com', subject, text });
      assert.match(sent.messageId, /@/);

      const got = await smtp.waitFor((m) => m.subject === subject);
      assert.deepEqual(got.to, ['ase.berg_company.com@mailinator.com']);
      assert.equal(got.from, 'tenant-clone@example.test');
      assert.equal(got.text, text.trimEnd());
      // The non-ASCII subject and long lines must have gone over the wire encoded, not verbatim.
      assert.match(got.raw, /^Subject: =\?UTF-8\?[QB]\?/im);
      assert.match(got.raw, /Content-Transfer-Encoding: quoted-printable/i);
      assert.match(got.raw, new RegExp(`Message-ID: ${sent.messageId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'i'));
    } finally {
      mailer.close();
    }
  });

  test('authenticates when a user and password are configured', async () => {
    const mailer = new SmtpMailer({
      host: smtp.host,
      port: smtp.port,
      from: 'notices@example.test',
      user: 'clone-bot',
      password: 'local-only-password',
    });
    try {
      await mailer.send({ to: 'requester@example.test', subject: 'Clone acme -> acme-sandbox done', text: 'All steps done.' });
      const got = await smtp.waitFor((m) => m.subject === 'Clone acme -> acme-sandbox done');
      assert.deepEqual(got.to, ['requester@example.test']);
      assert.equal(got.text, 'All steps done.');
    } finally {
      mailer.close();
    }
  });

  test('a given Message-ID is the one sent, so a resend after a crash can be recognised', async () => {
    const mailer = new SmtpMailer({ host: smtp.host, port: smtp.port, from: 'tenant-clone@example.test' });
    try {
      for (let i = 0; i < 2; i++)
        await mailer.send({ to: 'twice@example.test', subject: 'Same mail', text: 'x', messageId: 'provision-mail.0a1b2c@tenant-clone' });
      const got = smtp.messages.filter((m) => m.to.includes('twice@example.test'));
      assert.deepEqual(
        got.map((m) => m.messageId),
        ['<provision-mail.0a1b2c@tenant-clone>', '<provision-mail.0a1b2c@tenant-clone>'],
      );
      await assert.rejects(mailer.send({ to: 'twice@example.test', subject: 'x', text: 'y', messageId: '<bad id>' }), /invalid Message-ID "<bad id>"/);
    } finally {
      mailer.close();
    }
  });

  test('an unreachable SMTP port gives an error naming host:port', async () => {
    const port = await closedPort();
    const mailer = new SmtpMailer({ host: '127.0.0.1', port, from: 'tenant-clone@example.test' });
    try {
      await assert.rejects(mailer.send({ to: 'someone@example.test', subject: 'x', text: 'y' }), (err: Error) => err.message.includes(`127.0.0.1:${port}`));
    } finally {
      mailer.close();
    }
  });

  test('bad configuration and bad mail are refused naming the value', async () => {
    assert.throws(() => new SmtpMailer({ host: 'smtp.local', port: 70000, from: 'a@b.test' }), /70000/);
    assert.throws(() => new SmtpMailer({ host: 'smtp.local', port: 25, from: 'not-an-address' }), /not-an-address/);
    assert.throws(() => new SmtpMailer({ host: 'smtp.local', port: 25, from: 'a@b.test', user: 'u' }), /together/);
    const mailer = new SmtpMailer({ host: smtp.host, port: smtp.port, from: 'tenant-clone@example.test' });
    try {
      const before = smtp.messages.length;
      await assert.rejects(mailer.send({ to: 'nobody at all', subject: 's', text: 't' }), /nobody at all/);
      await assert.rejects(mailer.send({ to: 'a@b.test', subject: 'two\nlines', text: 't' }), /two\\nlines/);
      assert.equal(smtp.messages.length, before);
    } finally {
      mailer.close();
    }
  });
});
