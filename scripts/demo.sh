#!/usr/bin/env bash
# demo.sh - a local-mode walk-through of dbbackup (`make demo`):
#   builds build/dbbackup, then in a fresh demo/ directory creates a sample SQLite
#   database (sqlite3 CLI), and runs `backup`, `list`, `restore --to restored.db`
#   and `verify --deep` with no AWS or S3 settings at all, so the tool uses its
#   local store (BACKUP_LOCAL_DIR, default ./backups-local, i.e. demo/backups-local).
#   Finally it compares every row of the restored database with the original.
# Exit status 0 only if every step succeeded and the rows are identical.
set -euo pipefail
exec </dev/null
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
if [ -t 2 ]; then
  say() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }
else
  say() { printf '\n== %s\n' "$*" >&2; }
fi

say "build (scripts/build.sh dbbackup)"
scripts/build.sh dbbackup
BIN=$ROOT/build/dbbackup

rm -rf demo
mkdir demo
cd demo

say "create sample.db (sqlite3 CLI)"
sqlite3 sample.db >/dev/null <<'SQL'
PRAGMA journal_mode = WAL;
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE,
                        created_at TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
                     amount REAL NOT NULL, status TEXT NOT NULL, note TEXT);
CREATE TABLE translations (id INTEGER PRIMARY KEY, source TEXT NOT NULL, target TEXT,
                           lang TEXT NOT NULL, payload BLOB);
CREATE INDEX orders_by_customer ON orders(customer_id);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO customers (name, email, created_at)
  SELECT 'Customer ' || i, 'customer' || i || '@example.com',
         datetime('2024-01-01 00:00:00', '+' || (i * 37) || ' minutes') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO orders (customer_id, amount, status, note)
  SELECT 1 + (i * 7919) % 1000, ((i * 104729) % 100000) / 100.0,
         CASE i % 4 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' WHEN 2 THEN 'shipped' ELSE 'returned' END,
         CASE WHEN i % 5 = 0 THEN NULL ELSE 'order #' || i || ' — "gift" wrap, it''s fine' END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO translations (source, target, lang, payload)
  SELECT 'Hello world ' || i, CASE i % 3 WHEN 0 THEN 'Bonjour le monde ' || i
                                         WHEN 1 THEN 'こんにちは世界 ' || i
                                         ELSE 'Grüß Gott, Welt ' || i END,
         CASE i % 3 WHEN 0 THEN 'fr' WHEN 1 THEN 'ja' ELSE 'de' END, randomblob(16 + i % 48) FROM n;
COMMIT;
SQL
TABLES=$(sqlite3 sample.db "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
ROWS=0
for t in $TABLES; do ROWS=$((ROWS + $(sqlite3 sample.db "SELECT count(*) FROM $t"))); done
echo "sample.db: $(echo $TABLES | wc -w) tables ($(echo $TABLES)), $ROWS rows, $(stat -c %s sample.db) bytes" >&2

# Local mode: no AWS or S3 settings may leak in from the caller's environment.
unset_vars=()
while IFS='=' read -r name _; do
  case "$name" in AWS_* | S3_* | BACKUP_* | DATABASE_PATH) unset_vars+=(-u "$name") ;; esac
done < <(env)
dbb() {
  echo "\$ dbbackup $*" >&2
  env "${unset_vars[@]}" DATABASE_PATH=sample.db "$BIN" "$@"
}

say "backup"
dbb backup --db sample.db
say "list"
dbb list
say "restore (latest) to demo/restored.db"
dbb restore --to restored.db
say "verify --deep (latest)"
dbb verify --deep

say "compare the restored database with the original (sqlite3 CLI)"
[ "$(sqlite3 restored.db 'PRAGMA integrity_check')" = ok ] || { echo "restored.db fails integrity_check" >&2; exit 1; }
for t in $TABLES; do
  a=$(sqlite3 sample.db "SELECT * FROM $t ORDER BY rowid" | sha256sum)
  b=$(sqlite3 restored.db "SELECT * FROM $t ORDER BY rowid" | sha256sum)
  [ "$a" = "$b" ] || { echo "table $t differs between sample.db and restored.db" >&2; exit 1; }
  echo "  $t: $(sqlite3 restored.db "SELECT count(*) FROM $t") rows identical" >&2
done
[ "$(sqlite3 sample.db .schema)" = "$(sqlite3 restored.db .schema)" ] || { echo "schemas differ" >&2; exit 1; }

echo ""
echo "demo OK: $ROWS rows in $(echo $TABLES | wc -w) tables backed up to demo/backups-local, listed, restored to demo/restored.db and deep-verified; every row matches the original."
