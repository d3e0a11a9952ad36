/* Benchmark driver for libsqlite3: an in-memory database, 20,000 inserts in one transaction
   through a prepared statement, then an aggregate query. Its output is deterministic, so every
   runner's output can be compared with the natively linked driver's. */
#include <sqlite3.h>
#include <stdio.h>

#define ROWS 20000

static int check(sqlite3 *db, int rc, const char *what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
    fprintf(stderr, "sqdrv: %s: %s\n", what, sqlite3_errmsg(db));
    return 1;
  }
  return 0;
}

int main(void) {
  sqlite3 *db;
  sqlite3_stmt *insert, *query;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    fprintf(stderr, "sqdrv: cannot open an in-memory database\n");
    return 1;
  }
  if (check(db, sqlite3_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, "
                                  "val REAL, name TEXT)", 0, 0, 0), "create")) return 1;
  if (check(db, sqlite3_exec(db, "BEGIN", 0, 0, 0), "begin")) return 1;
  if (check(db, sqlite3_prepare_v2(db, "INSERT INTO t(grp, val, name) VALUES (?1, ?2, ?3)", -1,
                                   &insert, 0), "prepare insert")) return 1;
  for (int i = 0; i < ROWS; i++) {
    char name[32];
    snprintf(name, sizeof name, "row-%05d", (i * 7919) % ROWS);
    sqlite3_bind_int(insert, 1, i % 10);
    sqlite3_bind_double(insert, 2, (double)i * 0.5);
    sqlite3_bind_text(insert, 3, name, -1, SQLITE_TRANSIENT);
    if (check(db, sqlite3_step(insert), "insert")) return 1;
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  if (check(db, sqlite3_exec(db, "COMMIT", 0, 0, 0), "commit")) return 1;
  if (check(db, sqlite3_prepare_v2(db, "SELECT grp, count(*), sum(val), avg(val), min(name), "
                                       "max(name) FROM t GROUP BY grp ORDER BY grp", -1, &query, 0),
            "prepare query")) return 1;
  int rc;
  while ((rc = sqlite3_step(query)) == SQLITE_ROW) {
    printf("%d %d %.1f %.3f %s %s\n", sqlite3_column_int(query, 0), sqlite3_column_int(query, 1),
           sqlite3_column_double(query, 2), sqlite3_column_double(query, 3),
           (const char *)sqlite3_column_text(query, 4), (const char *)sqlite3_column_text(query, 5));
  }
  if (check(db, rc, "query")) return 1;
  sqlite3_finalize(query);
  printf("rows %d, sqlite %s\n", ROWS, sqlite3_libversion());
  sqlite3_close(db);
  return 0;
}
