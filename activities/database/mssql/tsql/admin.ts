/**
 * Server-level batches: existence, create, drop, rename (set aside), logins and roles. Names
 * are parameters quoted server-side with QUOTENAME inside sp_executesql; the password is a
 * parameter embedded with QUOTENAME(@pw, '''') (so ' is doubled), never part of the text.
 */
import { batch, bit, str, type Batch } from './batch';
import { checkIdentifier } from './identifiers';

/** Edition facts the engine needs: Azure SQL Database is EngineEdition 5. */
export function serverInfo(): Batch {
  return batch(
    'server-info',
    `
SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS edition,
       CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS version,
       CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)) AS data_path,
       CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)) AS log_path,
       CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)) AS backup_path`,
  );
}

export function databaseState(db: string): Batch {
  checkIdentifier('database name', db);
  return batch('database-state', `SELECT d.state_desc AS state, d.user_access_desc AS access FROM sys.databases AS d WHERE d.name = @db`, { db: str(db) });
}

/** Run inside the database: allocated size of its files (works on SQL Server and Azure SQL). */
export function databaseSize(): Batch {
  return batch('database-size', `SELECT SUM(CAST(f.size AS bigint)) * 8192 AS bytes FROM sys.database_files AS f`);
}

/** Run inside the database: user tables outside the engine's own tenant_clone schema. */
export function userTableCount(): Batch {
  return batch(
    'user-table-count',
    `SELECT COUNT(*) AS n FROM sys.tables AS t WHERE t.is_ms_shipped = 0 AND t.schema_id <> ISNULL(SCHEMA_ID(N'tenant_clone'), -1)`,
  );
}

export function createDatabase(db: string): Batch {
  checkIdentifier('database name', db);
  return batch(
    'create-database',
    `
IF DB_ID(@db) IS NULL
BEGIN
  DECLARE @sql nvarchar(max) = N'CREATE DATABASE ' + QUOTENAME(@db);
  EXEC sys.sp_executesql @sql;
END`,
    { db: str(db) },
  );
}

/**
 * Drop if present. SQL Server first takes the database to SINGLE_USER WITH ROLLBACK IMMEDIATE
 * so open sessions cannot block the drop; Azure SQL has no SINGLE_USER and closes them itself.
 */
export function dropDatabase(db: string, azure: boolean): Batch {
  checkIdentifier('database name', db);
  return batch(
    'drop-database',
    `
IF DB_ID(@db) IS NOT NULL
BEGIN
  DECLARE @sql nvarchar(max) = N'';
  IF @azure = 0 AND EXISTS (SELECT 1 FROM sys.databases WHERE name = @db AND state_desc = N'ONLINE')
    SET @sql = N'ALTER DATABASE ' + QUOTENAME(@db) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE; ';
  SET @sql = @sql + N'DROP DATABASE ' + QUOTENAME(@db) + N';';
  EXEC sys.sp_executesql @sql;
END`,
    { db: str(db), azure: bit(azure) },
  );
}

/**
 * Set aside: rename `from` to `to`, disconnecting `from`'s sessions. A no-op when the rename
 * already happened; errors name the database. On failure the database goes back to
 * MULTI_USER so a failed set-aside does not leave the tenant locked out.
 */
export function renameDatabase(from: string, to: string, azure: boolean): Batch {
  checkIdentifier('database name', from);
  checkIdentifier('database name', to);
  return batch(
    'rename-database',
    `
DECLARE @msg nvarchar(2048);
IF DB_ID(@from) IS NULL AND DB_ID(@to) IS NOT NULL RETURN;
IF DB_ID(@from) IS NULL
BEGIN
  SET @msg = CONCAT(N'database "', @from, N'" does not exist');
  THROW 50001, @msg, 1;
END;
IF DB_ID(@to) IS NOT NULL
BEGIN
  SET @msg = CONCAT(N'cannot rename "', @from, N'": database "', @to, N'" already exists');
  THROW 50002, @msg, 1;
END;
DECLARE @sql nvarchar(max);
IF @azure = 1
BEGIN
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(@from) + N' MODIFY NAME = ' + QUOTENAME(@to) + N';';
  EXEC sys.sp_executesql @sql;
  RETURN;
END;
BEGIN TRY
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(@from) + N' SET SINGLE_USER WITH ROLLBACK IMMEDIATE;';
  EXEC sys.sp_executesql @sql;
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(@from) + N' MODIFY NAME = ' + QUOTENAME(@to) + N';';
  EXEC sys.sp_executesql @sql;
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(@to) + N' SET MULTI_USER;';
  EXEC sys.sp_executesql @sql;
END TRY
BEGIN CATCH
  SET @sql = N'ALTER DATABASE ' + QUOTENAME(COALESCE(DB_NAME(DB_ID(@to)), @from)) + N' SET MULTI_USER;';
  BEGIN TRY EXEC sys.sp_executesql @sql; END TRY BEGIN CATCH END CATCH;
  THROW;
END CATCH`,
    { from: str(from), to: str(to), azure: bit(azure) },
  );
}

/**
 * Run in master: create the login or reset its password. QUOTENAME accepts at most 128
 * characters and returns NULL beyond, so a NULL statement is refused instead of silently
 * executing nothing (the engine also limits the password to 128 characters).
 */
export function ensureServerLogin(login: string, password: string, azure = false): Batch {
  checkIdentifier('login name', login);
  // The password policy is the engine's (length checked at construction); Azure SQL has no CHECK_POLICY option.
  return batch(
    'ensure-server-login',
    `
DECLARE @sql nvarchar(max);
IF NOT EXISTS (SELECT 1 FROM sys.sql_logins WHERE name = @login)
  SET @sql = N'CREATE LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = ' + QUOTENAME(@pw, '''') + CASE WHEN @azure = 1 THEN N';' ELSE N', CHECK_POLICY = OFF;' END;
ELSE
  SET @sql = N'ALTER LOGIN ' + QUOTENAME(@login) + N' WITH PASSWORD = ' + QUOTENAME(@pw, '''') + N';';
IF @sql IS NULL THROW 50003, N'login name or password too long for QUOTENAME', 1;
EXEC sys.sp_executesql @sql;`,
    { login: str(login), pw: str(password), azure: bit(azure) },
  );
}

/**
 * Run in the tenant database: map a user to the login (re-mapping a user restored from another
 * server, whose SID is stale) and make it reader and writer. ALTER ROLE … ADD MEMBER is
 * idempotent by itself.
 */
export function ensureDatabaseUser(login: string): Batch {
  checkIdentifier('login name', login);
  return batch(
    'ensure-database-user',
    `
DECLARE @sql nvarchar(max);
IF DATABASE_PRINCIPAL_ID(@login) IS NULL
  SET @sql = N'CREATE USER ' + QUOTENAME(@login) + N' FOR LOGIN ' + QUOTENAME(@login) + N';';
ELSE
  SET @sql = N'ALTER USER ' + QUOTENAME(@login) + N' WITH LOGIN = ' + QUOTENAME(@login) + N';';
EXEC sys.sp_executesql @sql;
SET @sql = N'ALTER ROLE db_datareader ADD MEMBER ' + QUOTENAME(@login) + N'; ALTER ROLE db_datawriter ADD MEMBER ' + QUOTENAME(@login) + N';';
EXEC sys.sp_executesql @sql;`,
    { login: str(login) },
  );
}

/** Run in the tenant database: a role that may read every table of dbo and nothing else. */
export function ensureQueryRole(role: string): Batch {
  checkIdentifier('role name', role);
  return batch(
    'ensure-query-role',
    `
DECLARE @sql nvarchar(max);
IF DATABASE_PRINCIPAL_ID(@role) IS NULL
BEGIN
  SET @sql = N'CREATE ROLE ' + QUOTENAME(@role) + N';';
  EXEC sys.sp_executesql @sql;
END;
SET @sql = N'GRANT SELECT ON SCHEMA::[dbo] TO ' + QUOTENAME(@role) + N';';
EXEC sys.sp_executesql @sql;`,
    { role: str(role) },
  );
}

/** Run in the tenant database: does the principal exist (for tests and checks). */
export function principalExists(name: string): Batch {
  return batch('principal-exists', `SELECT CASE WHEN DATABASE_PRINCIPAL_ID(@name) IS NULL THEN 0 ELSE 1 END AS e`, { name: str(name) });
}
