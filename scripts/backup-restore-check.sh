#!/usr/bin/env bash
# Back up the PostgreSQL database of DATABASE_URL and prove the backup restores.
#
#   DATABASE_URL=postgres://user:pass@host:5432/kehu scripts/backup-restore-check.sh [DUMP_FILE]
#
# 1. pg_dump --format=custom of DATABASE_URL into DUMP_FILE (kept; default: a temporary file,
#    removed at the end),
# 2. pg_restore of that dump into a scratch database `<name>_restore_check_<pid>` on the same
#    server (the role needs CREATEDB),
# 3. compares the exact row count of every table of the `public` schema (customers, contacts,
#    follow-ups, users, the audit log, django_migrations, …) between the two databases,
# 4. drops the scratch database (also on failure or Ctrl-C).
#
# Exit status 0 only if the restore succeeded and every count matches. Counts are taken from the
# live database after the dump, so run it when nothing writes (or expect differences on busy
# tables; the dump itself is a consistent snapshot). pg_dump/pg_restore must be at least the
# server's major version. docs/deploy.md describes the backup schedule and the media files.
set -euo pipefail

url="${DATABASE_URL:?set DATABASE_URL=postgres://user:password@host:5432/dbname}"
case "$url" in
  postgres://* | postgresql://* | pgsql://* | postgis://*) url="postgresql://${url#*://}" ;;
  *) echo "backup-restore-check: DATABASE_URL is not PostgreSQL: ${url%%://*}://…" >&2; exit 2 ;;
esac

query=""
if [[ "$url" == *\?* ]]; then query="?${url#*\?}"; fi
base="${url%%\?*}"
dbname="${base##*/}"
server="${base%/*}"
[[ -n "$dbname" && "$server" == *://?* ]] || { echo "backup-restore-check: no database name in DATABASE_URL" >&2; exit 2; }
scratch="${dbname}_restore_check_$$"
scratch_url="${server}/${scratch}${query}"
admin_url="${server}/postgres${query}"  # where CREATE/DROP DATABASE run

workdir="$(mktemp -d)"
dump="${1:-$workdir/kehu.dump}"
created=0
cleanup() {
  status=$?
  if [[ $created == 1 ]]; then
    psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$scratch\" WITH (FORCE)" >/dev/null ||
      echo "backup-restore-check: could not drop the scratch database $scratch" >&2
  fi
  rm -rf "$workdir"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== dump $dbname → $dump"
start=$SECONDS
pg_dump --dbname="$url" --format=custom --no-owner --no-privileges --file="$dump"
echo "   $(du -h "$dump" | cut -f1), $((SECONDS - start)) s"

echo "== restore into scratch database $scratch"
start=$SECONDS
psql "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$scratch\"" >/dev/null
created=1
pg_restore --dbname="$scratch_url" --no-owner --no-privileges --exit-on-error "$dump"
echo "   $((SECONDS - start)) s"

# One line per table: name|rows (exact counts, via query_to_xml so one statement does them all).
count_rows() {
  psql "$1" -qAtX -v ON_ERROR_STOP=1 <<'SQL'
SELECT table_name || '|' ||
       (xpath('/row/n/text()',
              query_to_xml(format('SELECT count(*) AS n FROM public.%I', table_name), false, true, '')))[1]::text
FROM information_schema.tables
WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
ORDER BY table_name;
SQL
}

echo "== compare row counts"
export LC_ALL=C  # one byte order for sort and join
count_rows "$url" | sort -t'|' -k1,1 >"$workdir/source.txt"
count_rows "$scratch_url" | sort -t'|' -k1,1 >"$workdir/restored.txt"
tables=$(wc -l <"$workdir/source.txt")
if [[ $tables -eq 0 ]]; then
  echo "backup-restore-check: no tables in $dbname (not migrated?)" >&2
  exit 1
fi

mismatches=0
printf '   %-45s %12s %12s\n' table source restored
join -t'|' -a1 -a2 -e MISSING -o 0,1.2,2.2 "$workdir/source.txt" "$workdir/restored.txt" >"$workdir/both.txt"
while IFS='|' read -r table source restored; do
  mark=""
  if [[ "$source" != "$restored" ]]; then mark="  ← differs"; mismatches=$((mismatches + 1)); fi
  # The main tables always, the rest only when they differ.
  if [[ -n "$mark" || "$table" =~ ^(org_user|org_department|customers_customer|customers_contact|followups_|sales_|imports_importjob|audit_|pool_|django_migrations) ]]; then
    printf '   %-45s %12s %12s%s\n' "$table" "$source" "$restored" "$mark"
  fi
done <"$workdir/both.txt"
total=$(awk -F'|' '{ s += $2 } END { print s + 0 }' "$workdir/source.txt")

if [[ $mismatches -ne 0 ]]; then
  echo "FAILED: $mismatches of $tables tables differ after the restore" >&2
  exit 1
fi
echo "OK: $tables tables, $total rows restored identically from $(basename "$dump")"
