#!/bin/bash
# Experiment for issue 11 (the point-in-time plan), kept so it can be rerun: pgBackRest 2.45
# (Debian) archiving a PostgreSQL 15 server's WAL into an Azure repository on Azurite served
# over HTTPS with a certificate made here, then restoring one database to a noted second into
# a scratch data directory with --db-include and --type=time. Run as root on a machine with
# the Debian packages postgresql-15 and pgbackrest, from a checkout with node_modules; it
# works under /tmp/spike/work and stops what it started. Findings are in the issue's note.
set -euo pipefail
S=/tmp/spike/work; rm -rf $S; mkdir -p $S/azurite $S/pg $S/log $S/spool; chown -R postgres $S
BIN=/usr/lib/postgresql/15/bin
cd $S
openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
chmod 644 key.pem
/work/main/node_modules/.bin/azurite-blob --blobHost 127.0.0.1 --blobPort 10300 --location $S/azurite --cert cert.pem --key key.pem --loose --skipApiVersionCheck --silent > $S/log/azurite.log 2>&1 &
AZ=$!
trap "kill $AZ 2>/dev/null; su postgres -c '$BIN/pg_ctl -D $S/pg -m immediate stop' >/dev/null 2>&1 || true; su postgres -c '$BIN/pg_ctl -D $S/scratch -m immediate stop' >/dev/null 2>&1 || true" EXIT
sleep 2
cd /work/main && NODE_TLS_REJECT_UNAUTHORIZED=0 node -e "
const { BlobServiceClient, StorageSharedKeyCredential } = require('@azure/storage-blob');
const cred = new StorageSharedKeyCredential('devstoreaccount1', 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==');
new BlobServiceClient('https://127.0.0.1:10300/devstoreaccount1', cred).getContainerClient('pgbackrest').createIfNotExists().then(() => console.log('container ok'));
" 2>&1 | grep -v Warning
cd $S
cat > $S/pgbackrest.conf <<CONF
[global]
repo1-type=azure
repo1-azure-account=devstoreaccount1
repo1-azure-key=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==
repo1-azure-container=pgbackrest
repo1-azure-uri-style=path
repo1-storage-host=localhost
repo1-storage-port=10300
repo1-storage-ca-file=$S/cert.pem
repo1-path=/tenants
repo1-retention-full=2
log-path=$S/log
lock-path=$S/spool
spool-path=$S/spool
start-fast=y

[tenants]
pg1-path=$S/pg
pg1-port=55432
pg1-socket-path=/tmp
CONF
chown postgres $S/pgbackrest.conf
PGBR="pgbackrest --config=$S/pgbackrest.conf --stanza=tenants"
su postgres -c "$BIN/initdb -D $S/pg -A trust -U postgres" > $S/log/initdb.log
cat >> $S/pg/postgresql.conf <<CONF
port=55432
unix_socket_directories='/tmp'
listen_addresses='127.0.0.1'
wal_level=replica
archive_mode=on
archive_command='$PGBR archive-push %p'
CONF
su postgres -c "$BIN/pg_ctl -D $S/pg -l $S/log/pg.log -w start" >/dev/null
P="psql -h 127.0.0.1 -p 55432 -U postgres -qAt"
$P -c "create database tenant_acme" -c "create database tenant_other"
$P -d tenant_acme -c "create table t(id int primary key, at timestamptz default now())"
su postgres -c "$PGBR stanza-create"; echo "stanza ok"
su postgres -c "$PGBR backup --type=full"; echo "full backup ok"
$P -d tenant_acme -c "insert into t(id) select generate_series(1,100)"
sleep 1
AT=$($P -c "select to_char(now() at time zone 'utc', 'YYYY-MM-DD HH24:MI:SS.US+00')")
sleep 1
$P -d tenant_acme -c "insert into t(id) select generate_series(101,150)" -c "delete from t where id <= 10"
$P -c "select pg_switch_wal()" >/dev/null
sleep 2
su postgres -c "$PGBR info" | head -20
mkdir -p $S/scratch && chown postgres $S/scratch && chmod 700 $S/scratch
su postgres -c "$PGBR restore --pg1-path=$S/scratch --type=time '--target=$AT' --target-action=promote --db-include=tenant_acme --archive-mode=off" && echo "restore ok"
echo "port=55433" >> $S/scratch/postgresql.auto.conf
su postgres -c "$BIN/pg_ctl -D $S/scratch -l $S/log/scratch.log -w -t 120 start" >/dev/null && echo "scratch started"
sleep 2
echo "rows at $AT: $(psql -h 127.0.0.1 -p 55433 -U postgres -qAt -d tenant_acme -c 'select count(*), min(id), max(id) from t')"
echo "live rows: $($P -d tenant_acme -c 'select count(*), min(id), max(id) from t')"
psql -h 127.0.0.1 -p 55433 -U postgres -qAt -d tenant_other -c 'select 1' 2>&1 | head -2 || true
