/* The light benchmark driver: SQLite doing almost nothing (an in-memory database, a table,
   three rows, one query), so that a runner's start-up and link are most of its time. Its output
   is deterministic, so every runner's output can be compared with the native driver's. */
#include <sqlite3.h>
#include <stdio.h>

int main(void) {
  sqlite3 *db;
  sqlite3_stmt *query;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 1;
  if (sqlite3_exec(db, "CREATE TABLE t(a INTEGER, b TEXT); "
                       "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')",
                   0, 0, 0) != SQLITE_OK)
    return 1;
  if (sqlite3_prepare_v2(db, "SELECT sum(a), group_concat(b, '+') FROM t", -1, &query, 0))
    return 1;
  if (sqlite3_step(query) != SQLITE_ROW) return 1;
  printf("%d %s\n", sqlite3_column_int(query, 0), (const char *)sqlite3_column_text(query, 1));
  sqlite3_finalize(query);
  sqlite3_close(db);
  return 0;
}
