/**
 * The engine contract on SQL Server, plus what only a real server can show (the tenant login
 * logs in and reads/writes, the query role reads but cannot write, the hard e-mail values).
 *
 * Runs only when TEST_MSSQL_URL is set (mssql://sa:…@127.0.0.1:1433): no SQL Server can run
 * on the CI machine. Without it, no test is registered at all — a skipped or always-passing
 * placeholder would make the report claim something was checked — and one console line says
 * the suite did not run. The T-SQL itself is always checked by tsql-batches.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sql from 'mssql';
import { MssqlTenantDatabase } from '../../activities/database/mssql/engine';
import { seedMssqlTenantDatabase } from '../../stack/seed/mssql/demo-seed';
import { parseAdminUrl } from '../../activities/database/mssql/connections';
import { uniqueDbName } from '../support/postgres';
import { engineContract, type HeldSession } from './engine-contract';
import { FOREIGN_BEFORE, HARD_EMAILS, HARD_LENGTHS, SANDBOX, hardProfile } from './hard-emails';

const URL_ENV = process.env.TEST_MSSQL_URL;
const PASSWORD = 'Contract-login-Passw0rd!';

/**
 * The contract's assertion SQL is written for PostgreSQL; these are the only differences it
 * uses. Anything else with PostgreSQL-only syntax fails loudly instead of being guessed.
 */
export function toTsql(pgSql: string): string {
  let s = pgSql.trim();
  if (s === 'BEGIN') return 'BEGIN TRANSACTION';
  if (s === 'COMMIT') return 'COMMIT TRANSACTION';
  s = s.replace(/count\(\*\)::int/gi, 'COUNT(*)');
  s = s.replace(/^SELECT key, value FROM settings ORDER BY key$/, 'SELECT [key], value FROM settings ORDER BY [key]');
  s = s.replace(/^(SELECT )(.*) ORDER BY (\w+) LIMIT (\d+)$/, '$1TOP ($4) $2 ORDER BY $3');
  s = s.replace(/= (true|false)\b/g, (_m, b: string) => `= ${b === 'true' ? 1 : 0}`);
  if (/::|\$\d|\bLIMIT\b|\bILIKE\b|\bRETURNING\b/i.test(s)) throw new Error(`contract SQL not translated to T-SQL: ${pgSql}`);
  return s;
}

async function pool(url: string, db: string, max = 4): Promise<sql.ConnectionPool> {
  return new sql.ConnectionPool({ ...parseAdminUrl(url), database: db, pool: { min: 0, max } }).connect();
}

async function queryOn(url: string, db: string, text: string): Promise<Record<string, unknown>[]> {
  const p = await pool(url, db, 1);
  try {
    const r = await p.request().query(toTsql(text));
    return (r.recordset ?? []).map((row: Record<string, unknown>) => ({ ...row }));
  } finally {
    await p.close();
  }
}

/** One connection; BEGIN/COMMIT map to an mssql Transaction so the statements share it. */
async function session(url: string, db: string): Promise<HeldSession> {
  const p = await pool(url, db, 1);
  p.on('error', () => undefined);
  await p.request().query('SELECT 1 AS held');
  let tx: sql.Transaction | null = null;
  return {
    query: async (text) => {
      const t = toTsql(text);
      if (t === 'BEGIN TRANSACTION') {
        tx = new sql.Transaction(p);
        await tx.begin();
        return;
      }
      if (t === 'COMMIT TRANSACTION') {
        await tx?.commit();
        tx = null;
        return;
      }
      return (tx ? new sql.Request(tx) : p.request()).query(t);
    },
    end: () => p.close().catch(() => undefined),
  };
}

if (!URL_ENV) {
  console.log('SQL Server contract suite: not run (TEST_MSSQL_URL unset; see the mssql engine README). Only the T-SQL unit suite (tsql-batches.test.ts) ran.');
} else {
  const url = URL_ENV;

  engineContract('mssql', async () => {
    const engine = new MssqlTenantDatabase({ adminUrl: url, loginPassword: PASSWORD });
    return {
      engine,
      adminUrl: url,
      seed: (db, opts) => seedMssqlTenantDatabase(url, db, opts),
      query: (db, text, params = []) => {
        if (params.length) throw new Error(`contract query with parameters is not supported on mssql: ${text}`);
        return queryOn(url, db, text);
      },
      drop: (db) => engine.dropDatabase(db),
      session: (db) => session(url, db),
      // Logins are server-wide: drop the ones this process's contract run created.
      cleanup: async () => {
        const p = await pool(url, 'master', 1);
        try {
          await p.request().input('pattern', `c[_]login[_]${process.pid}[_]%`).query(`
            DECLARE @name sysname, @sql nvarchar(max);
            DECLARE logins CURSOR LOCAL FAST_FORWARD FOR SELECT name FROM sys.sql_logins WHERE name LIKE @pattern;
            OPEN logins; FETCH NEXT FROM logins INTO @name;
            WHILE @@FETCH_STATUS = 0
            BEGIN
              SET @sql = N'DROP LOGIN ' + QUOTENAME(@name); EXEC sys.sp_executesql @sql;
              FETCH NEXT FROM logins INTO @name;
            END;
            CLOSE logins; DEALLOCATE logins;`);
        } finally {
          await p.close();
        }
      },
    };
  });

  describe('SQL Server specifics', () => {
    const engine = new MssqlTenantDatabase({ adminUrl: url, loginPassword: PASSWORD });
    const source = uniqueDbName('msspec_src');
    const target = uniqueDbName('msspec_dst');
    const login = `${target}_login`;
    const role = `${target}_query`;

    before(async () => {
      await seedMssqlTenantDatabase(url, source, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 50 });
    });

    after(async () => {
      await engine.dropDatabase(source).catch(() => undefined);
      await engine.dropDatabase(target).catch(() => undefined);
      const p = await pool(url, 'master', 1);
      await p
        .request()
        .input('l', login)
        .query(
          `IF EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = @l) BEGIN DECLARE @s nvarchar(max) = N'DROP LOGIN ' + QUOTENAME(@l); EXEC sys.sp_executesql @s; END`,
        )
        .catch(() => undefined);
      await p.close();
      await engine.close();
    });

    test('the constructor refuses a bad URL or a bad password', () => {
      assert.throws(() => new MssqlTenantDatabase({ adminUrl: 'mysql://x/y', loginPassword: PASSWORD }), /"mysql:"/);
      assert.throws(() => new MssqlTenantDatabase({ adminUrl: url, loginPassword: 'short' }), /loginPassword/);
    });

    test('a login created before the copy logs in and reads/writes the copied tables; the query role reads only', async () => {
      await engine.createDatabase(target);
      await engine.ensureLogin(target, login);
      await engine.copyDatabase(source, target);
      await engine.ensureLogin(target, login); // re-maps the restored user's SID to the login
      await engine.grantQueryRole(target, role);

      const asLogin = await new sql.ConnectionPool({ ...parseAdminUrl(url), user: login, password: PASSWORD, database: target }).connect();
      try {
        const r = await asLogin.request().query('SELECT COUNT(*) AS n FROM persons');
        assert.equal(r.recordset[0].n, 50);
        await asLogin.request().query(`INSERT INTO tickets (id, title, status, created_at) VALUES (100000, N'by login', N'open', SYSDATETIMEOFFSET())`);
      } finally {
        await asLogin.close();
      }

      const admin = await pool(url, target, 1);
      try {
        const probe = `${role}_probe`;
        await admin.request().input('p', probe).input('r', role).query(`
          DECLARE @s nvarchar(max) = N'CREATE USER ' + QUOTENAME(@p) + N' WITHOUT LOGIN; ALTER ROLE ' + QUOTENAME(@r) + N' ADD MEMBER ' + QUOTENAME(@p) + N';';
          EXEC sys.sp_executesql @s;`);
        const read = await admin.request().input('p', probe).query(`EXECUTE AS USER = @p; SELECT COUNT(*) AS n FROM email_addresses; REVERT;`);
        assert.equal(read.recordset[0].n, 100);
        await assert.rejects(
          admin
            .request()
            .input('p', probe)
            .query(`EXECUTE AS USER = @p; BEGIN TRY UPDATE persons SET first_name = N'x'; END TRY BEGIN CATCH REVERT; THROW; END CATCH; REVERT;`),
          /permission was denied/i,
        );
      } finally {
        await admin.close();
      }
    });
  });

  describe('point-in-time restore on SQL Server', () => {
    const engine = new MssqlTenantDatabase({ adminUrl: url, loginPassword: PASSWORD });
    const source = uniqueDbName('mspit_src');
    const target = uniqueDbName('mspit_dst');
    let master: sql.ConnectionPool;
    let at = '';

    const exec = (text: string, params: Record<string, string> = {}) => {
      const r = master.request();
      for (const [k, v] of Object.entries(params)) r.input(k, v);
      return r.query(text);
    };

    before(async () => {
      await seedMssqlTenantDatabase(url, source, { tenantId: 'acme', companyName: 'Acme AS', baseUrl: 'https://acme.example-crm.com', persons: 20 });
      master = await pool(url, 'master', 1);
      const [{ dir }] = (await exec(`SELECT CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)) AS dir`)).recordset;
      // FULL recovery and a full backup start a log chain, as production's maintenance does.
      await exec(`DECLARE @s nvarchar(max) = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET RECOVERY FULL'; EXEC sys.sp_executesql @s;`, { db: source });
      await exec(`BACKUP DATABASE @db TO DISK = @f WITH INIT, FORMAT`, { db: source, f: `${dir}/${source}_full.bak` });
      await exec(`INSERT INTO ${source}.dbo.tickets (id, title, status, created_at) VALUES (200001, N'before the point', N'open', SYSDATETIMEOFFSET())`);
      await new Promise((r) => setTimeout(r, 1500));
      at = `${(await exec(`SELECT CONVERT(varchar(27), SYSUTCDATETIME(), 126) AS now`)).recordset[0].now}Z`;
      await new Promise((r) => setTimeout(r, 1500));
      await exec(`INSERT INTO ${source}.dbo.tickets (id, title, status, created_at) VALUES (200002, N'after the point', N'open', SYSDATETIMEOFFSET())`);
      await exec(`BACKUP LOG @db TO DISK = @f WITH INIT, FORMAT`, { db: source, f: `${dir}/${source}_log1.trn` });
    });

    after(async () => {
      await master?.close();
      await engine.dropDatabase(source).catch(() => undefined);
      await engine.dropDatabase(target).catch(() => undefined);
      await engine.close();
    });

    test('the copy holds what was committed before the point and nothing after', async () => {
      await engine.createDatabase(target);
      const r = await engine.restoreToPointInTime(source, target, at);
      assert.match(r.detail, /\+ 1 log backup\(s\), STOPAT/);
      const rows = await queryOn(url, target, 'SELECT id FROM tickets WHERE id IN (200001, 200002) ORDER BY id');
      assert.deepEqual(
        rows.map((x) => Number(x.id)),
        [200001],
      );
      const state = await queryOn(url, 'master', `SELECT state_desc AS state, user_access_desc AS access FROM sys.databases WHERE name = '${target}'`);
      assert.deepEqual(state, [{ state: 'ONLINE', access: 'MULTI_USER' }]);
    });

    test('a point before the full backup, in the future or past the last log is refused, naming it', async () => {
      await assert.rejects(
        engine.restoreToPointInTime(source, target, '2000-01-01T00:00:00Z'),
        /no full backup of ".*" finished before 2000-01-01T00:00:00.000Z/,
      );
      await assert.rejects(engine.restoreToPointInTime(source, target, '2999-01-01T00:00:00Z'), /is in the future/);
      await exec(`INSERT INTO ${source}.dbo.tickets (id, title, status, created_at) VALUES (200003, N'later', N'open', SYSDATETIMEOFFSET())`);
      await new Promise((r) => setTimeout(r, 1500));
      const late = `${(await exec(`SELECT CONVERT(varchar(27), SYSUTCDATETIME(), 126) AS now`)).recordset[0].now}Z`;
      await assert.rejects(engine.restoreToPointInTime(source, target, late), /take a log backup now and retry/);
      await assert.rejects(engine.restoreToPointInTime(source, source, at), /onto itself/);
    });
  });

  describe('e-mail rewrite on SQL Server: hard values', () => {
    const CASES = HARD_EMAILS;
    const engine = new MssqlTenantDatabase({ adminUrl: url, loginPassword: PASSWORD });
    const db = uniqueDbName('mss_rewrite');
    const profile = hardProfile();

    before(async () => {
      await engine.createDatabase(db);
      const p = await pool(url, db, 1);
      try {
        await p.request().query(`CREATE TABLE hard (id int PRIMARY KEY, e254 nvarchar(254), e40 nvarchar(40), e20 nvarchar(20),
          tiny nvarchar(12), tiny_nn nvarchar(12) NOT NULL DEFAULT N'x', txt nvarchar(max))`);
        for (const [i, [col, input]] of CASES.entries()) {
          await p
            .request()
            .input('id', i + 1)
            .input('v', sql.NVarChar(sql.MAX), input)
            .query(`INSERT INTO hard (id, ${col}) VALUES (@id, @v)`);
        }
      } finally {
        await p.close();
      }
    });

    after(async () => {
      await engine.dropDatabase(db).catch(() => undefined);
      await engine.close();
    });

    test('every hard value is rewritten exactly as on PostgreSQL and fits its column; a second scrub changes nothing', async () => {
      const before = await engine.verifyEmails(db, profile, SANDBOX);
      assert.equal(before.total, FOREIGN_BEFORE);
      await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 7 });
      for (const [i, [col, input, expected]] of CASES.entries()) {
        const [row] = await queryOn(url, db, `SELECT ${col} AS v FROM hard WHERE id = ${i + 1}`);
        assert.equal(row.v, expected, `${col} ${JSON.stringify(input)}`);
        const max = HARD_LENGTHS[col];
        if (max !== null && typeof row.v === 'string') assert.ok(row.v.length <= max, `${JSON.stringify(row.v)} exceeds ${col} (${max})`);
      }
      assert.equal((await engine.verifyEmails(db, profile, SANDBOX)).total, 0);
      const sums = await engine.checksum(db);
      const again = await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 5 });
      assert.equal(again.rewritten, 0);
      assert.deepEqual(await engine.checksum(db), sums);
    });
  });

  describe('whole-database scrub and verification (SQL Server)', () => {
    const engine = new MssqlTenantDatabase({ adminUrl: url, loginPassword: PASSWORD });
    const db = uniqueDbName('ms_whole');
    const profile = hardProfile();
    const run = async (text: string) => {
      const p = await pool(url, db, 1);
      try {
        await p.request().batch(text);
      } finally {
        await p.close();
      }
    };

    before(async () => {
      await engine.createDatabase(db);
      await run(`CREATE TABLE hard (id int PRIMARY KEY, e254 nvarchar(254))`);
      await run(`EXEC('CREATE SCHEMA crm')`);
      await run(`CREATE TABLE crm.leads (id int PRIMARY KEY, contact varchar(80), doc xml, extra sql_variant)`);
      await run(
        `INSERT INTO crm.leads VALUES (1, 'ivan@realcustomer.com', '<lead><mail>jill@realcustomer.com</mail></lead>', NULL), (2, 'john%40realcustomer.com', NULL, NULL)`,
      );
      await run(`CREATE TABLE newsletter_subscribers (email nvarchar(max))`); // a heap: no key at all
      await run(`INSERT INTO newsletter_subscribers VALUES (N'erin@realcustomer.com'), (N'frank&#64;realcustomer.com'), (N'@media screen')`);
      await run(`CREATE TABLE audit_log (old nvarchar(max))`);
      await run(`CREATE TRIGGER crm.leads_audit ON crm.leads AFTER UPDATE AS INSERT INTO dbo.audit_log (old) SELECT contact FROM deleted`);
    });
    after(async () => {
      await engine.dropDatabase(db).catch(() => undefined);
      await engine.close();
    });

    test('every table of every schema is scrubbed, triggers do not fire, xml stays well-formed; sql_variant is read by the gate', async () => {
      const before = await engine.verifyEmails(db, profile, SANDBOX);
      for (const col of ['crm.leads.contact', 'crm.leads.doc', 'newsletter_subscribers.email']) assert.ok(before.remaining[col] > 0, col);
      await engine.scrubEmails(db, profile, { sandboxDomain: SANDBOX, batchSize: 100 });
      assert.deepEqual(await queryOn(url, db, `SELECT contact, CAST(doc AS nvarchar(max)) AS doc FROM crm.leads ORDER BY id`), [
        { contact: 'ivan_realcustomer.com@mailinator.com', doc: '<lead><mail>jill_realcustomer.com@mailinator.com</mail></lead>' },
        { contact: 'john_realcustomer.com@mailinator.com', doc: null },
      ]);
      assert.deepEqual(await queryOn(url, db, `SELECT email FROM newsletter_subscribers ORDER BY email`), [
        { email: '@media screen' },
        { email: 'erin_realcustomer.com@mailinator.com' },
        { email: 'frank_realcustomer.com@mailinator.com' },
      ]);
      assert.deepEqual(await queryOn(url, db, `SELECT COUNT(*) AS n FROM audit_log`), [{ n: 0 }], 'the audit trigger did not fire');
      assert.equal((await engine.verifyEmails(db, profile, SANDBOX)).total, 0);
      await run(`INSERT INTO crm.leads VALUES (3, NULL, NULL, CAST(N'kate@realcustomer.com' AS sql_variant))`);
      const v = await engine.verifyEmails(db, profile, SANDBOX);
      assert.deepEqual(v.findings, ['crm.leads.extra: 1 values, e.g. …@realcustomer.com']);
      assert.deepEqual(await engine.countAddressesAt(db, 'realcustomer.com'), { 'crm.leads': 1 });
    });
  });
}
