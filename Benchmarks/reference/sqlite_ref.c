/*
 * Reference for the store benchmarks: SQLite 3 through its C API.
 *
 * Build (the runner does this into Benchmarks/.build/reference/):
 *
 *     cc -O2 -o sqlite_ref Benchmarks/reference/sqlite_ref.c -lsqlite3 -lpthread
 *
 * Run as `sqlite_ref --serve DIR`: the database is DIR/users.db (with its -wal and -shm files).
 * The program prints one JSON header line, {"reference_name": "SQLite 3.x.y ..."}, then reads
 * one command per line on standard input and answers each with one JSON line. Timed commands
 * answer {"seconds": ...}, measured here around the operation only (CLOCK_MONOTONIC), so
 * process start-up and the pipe are never timed.
 *
 *   populate FILE      create users.db afresh (WAL, synchronous=FULL) and insert the users of
 *                      FILE (tab-separated, see read_user), 1,000 rows per transaction; timed
 *   close              close every connection (the last close checkpoints and removes the WAL)
 *   open               open users.db and SELECT every row into C structs, strings copied into
 *                      memory of our own; timed; the connection stays open for what follows
 *   keys FILE          load the usernames to look up (one a line) and prepare the point query
 *   lookup N           N point queries by canonical username (cycling through the keys), each
 *                      stepping once and copying every column into a struct; timed
 *   seq BASE N         N updates, each its own transaction (autocommit), of the users number
 *                      user_for(BASE), ..., user_for(BASE + N - 1); timed
 *   group-open T       open T more connections (busy_timeout 10 s), one per thread
 *   group BASE N       T threads, each with its own connection, thread t making N updates of
 *                      users user_for(BASE + j*T + t), each its own transaction; timed from the
 *                      moment all threads are ready until the last one finishes
 *   serial BASE N T    the same updates as `group BASE N` with T threads, but through the one
 *                      main connection, the threads taking turns on a mutex of this process
 *                      (one update, its own transaction, per turn): how an app with one
 *                      connection serializes writers; timed like `group`
 *   quit               (or end of input) close and exit
 *
 * Each update is what an optimistic-concurrency store does: set a new first name, increment
 * the version and set updated_at, on condition that the version is the one last written; the
 * program keeps every user's id and version for that, and fails if a row does not match.
 *
 * The users table has a column per field of UserManagementKit's UserRecord, the id as a
 * 16-byte BLOB primary key, and a UNIQUE index on lower(username): SQLite's lower() folds ASCII
 * letters only, exactly UserManagementKit's canonical username, and usernames are ASCII.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ROWS_PER_TRANSACTION 1000
#define BUSY_TIMEOUT_MS 10000

static const char *schema =
    "CREATE TABLE users ("
    " id BLOB PRIMARY KEY NOT NULL,"
    " username TEXT NOT NULL,"
    " first_name TEXT NOT NULL,"
    " last_name TEXT NOT NULL,"
    " status TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " policies TEXT NOT NULL,"
    " api_access INTEGER NOT NULL,"
    " must_change_password INTEGER NOT NULL,"
    " password_hash TEXT,"
    " api_password_hash TEXT,"
    " version INTEGER NOT NULL,"
    " security_stamp TEXT NOT NULL,"
    " created_at REAL NOT NULL,"
    " updated_at REAL NOT NULL,"
    " created_by TEXT NOT NULL);"
    "CREATE UNIQUE INDEX users_username_key ON users(lower(username));";

static const char *insert_sql =
    "INSERT INTO users (id, username, first_name, last_name, status, role, policies,"
    " api_access, must_change_password, password_hash, api_password_hash, version,"
    " security_stamp, created_at, updated_at, created_by)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)";

#define COLUMNS                                                                             \
    "id, username, first_name, last_name, status, role, policies, api_access,"              \
    " must_change_password, password_hash, api_password_hash, version, security_stamp,"     \
    " created_at, updated_at, created_by"

static const char *select_all_sql = "SELECT " COLUMNS " FROM users";
static const char *lookup_sql = "SELECT " COLUMNS " FROM users WHERE lower(username) = ?1";
static const char *update_sql =
    "UPDATE users SET first_name = ?1, version = ?2, updated_at = ?3"
    " WHERE id = ?4 AND version = ?5";

/* ---------------------------------------------------------------------------------------- */

static char db_path[4096];
static sqlite3 *main_db;
static sqlite3_stmt *lookup_stmt;
static sqlite3_stmt *update_stmt;

/* What the program knows of each user, by number (insertion order): id and current version. */
typedef struct {
    unsigned char id[16];
    int64_t version;
} user_state;
static user_state *users;
static size_t user_count;

static char **keys;
static size_t key_count;

static sqlite3 **group_dbs;
static sqlite3_stmt **group_stmts;
static size_t group_count;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double wall_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* An error answer; the runner stops on it. */
static void answer_error(const char *what, const char *detail) {
    printf("{\"error\":\"");
    for (const char *p = what; *p; p++) putchar(*p == '"' || *p == '\\' ? '\'' : *p);
    printf(": ");
    for (const char *p = detail ? detail : ""; *p; p++)
        putchar(*p == '"' || *p == '\\' ? '\'' : (*p < 0x20 ? ' ' : *p));
    printf("\"}\n");
    fflush(stdout);
}

static int check(sqlite3 *db, int rc, const char *what) {
    if (rc == SQLITE_OK || rc == SQLITE_DONE || rc == SQLITE_ROW) return 0;
    answer_error(what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return -1;
}

/* The user updated by the k-th update: a permutation of 0..<count for any count not divisible
   by 48271 (a prime), so that consecutive updates touch users spread over the table. The Swift
   side uses the same function. */
static size_t user_for(uint64_t k) {
    return (size_t)((k % user_count) * 48271u % user_count);
}

static int parse_uuid(const char *text, unsigned char out[16]) {
    int n = 0;
    for (const char *p = text; *p && n < 32; p++) {
        if (*p == '-') continue;
        int v;
        if (*p >= '0' && *p <= '9') v = *p - '0';
        else if (*p >= 'a' && *p <= 'f') v = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F') v = *p - 'A' + 10;
        else return -1;
        if (n % 2 == 0) out[n / 2] = (unsigned char)(v << 4);
        else out[n / 2] |= (unsigned char)v;
        n++;
    }
    return n == 32 ? 0 : -1;
}

static int open_connection(sqlite3 **db) {
    /* NOMUTEX: each connection is used by one thread at a time, so SQLite's own mutexes on the
       connection are not needed (its fastest safe mode). */
    int rc = sqlite3_open_v2(db_path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                              SQLITE_OPEN_NOMUTEX, NULL);
    if (check(*db, rc, "open")) return -1;
    sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
    rc = sqlite3_exec(*db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    return check(*db, rc, "PRAGMA synchronous");
}

static void close_all(void) {
    for (size_t i = 0; i < group_count; i++) {
        sqlite3_finalize(group_stmts[i]);
        sqlite3_close(group_dbs[i]);
    }
    free(group_dbs);
    free(group_stmts);
    group_dbs = NULL;
    group_stmts = NULL;
    group_count = 0;
    sqlite3_finalize(lookup_stmt);
    sqlite3_finalize(update_stmt);
    lookup_stmt = NULL;
    update_stmt = NULL;
    if (main_db) sqlite3_close(main_db);
    main_db = NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* populate                                                                                  */

/* Splits a line of 16 tab-separated fields in place:
   id username first last status role policies api_access must_change password_hash
   api_password_hash version security_stamp created_at updated_at created_by
   (an empty api_password_hash or password_hash is NULL). */
static int split_fields(char *line, char *fields[16]) {
    size_t n = 0;
    fields[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == '\t') {
            *p = '\0';
            if (n == 16) return -1;
            fields[n++] = p + 1;
        } else if (*p == '\n' || *p == '\r') {
            *p = '\0';
            break;
        }
    }
    return n == 16 ? 0 : -1;
}

static void bind_text_or_null(sqlite3_stmt *stmt, int index, const char *text) {
    if (*text) sqlite3_bind_text(stmt, index, text, -1, SQLITE_STATIC);
    else sqlite3_bind_null(stmt, index);
}

static void command_populate(const char *file) {
    close_all();
    char path[4200];
    unlink(db_path);
    snprintf(path, sizeof path, "%s-wal", db_path);
    unlink(path);
    snprintf(path, sizeof path, "%s-shm", db_path);
    unlink(path);

    FILE *input = fopen(file, "r");
    if (!input) {
        answer_error("populate: cannot read the users file", strerror(errno));
        return;
    }
    double start = now();
    if (open_connection(&main_db)) goto done;
    if (check(main_db, sqlite3_exec(main_db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL),
              "PRAGMA journal_mode") ||
        check(main_db, sqlite3_exec(main_db, schema, NULL, NULL, NULL), "CREATE TABLE"))
        goto done;
    sqlite3_stmt *insert = NULL;
    if (check(main_db, sqlite3_prepare_v3(main_db, insert_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                          &insert, NULL), "prepare INSERT"))
        goto done;

    size_t capacity = 1024;
    free(users);
    users = malloc(capacity * sizeof *users);
    user_count = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    int failed = 0;
    while (!failed && getline(&line, &line_capacity, input) > 0) {
        char *f[16];
        if (split_fields(line, f)) {
            answer_error("populate", "a line does not have 16 tab-separated fields");
            failed = 1;
            break;
        }
        if (user_count == capacity) {
            capacity *= 2;
            user_state *grown = realloc(users, capacity * sizeof *users);
            if (!grown) {
                answer_error("populate", "out of memory");
                failed = 1;
                break;
            }
            users = grown;
        }
        user_state *u = &users[user_count];
        if (parse_uuid(f[0], u->id)) {
            answer_error("populate: not a UUID", f[0]);
            failed = 1;
            break;
        }
        u->version = strtoll(f[11], NULL, 10);
        if (user_count % ROWS_PER_TRANSACTION == 0 &&
            check(main_db, sqlite3_exec(main_db, "BEGIN", NULL, NULL, NULL), "BEGIN")) {
            failed = 1;
            break;
        }
        sqlite3_bind_blob(insert, 1, u->id, 16, SQLITE_STATIC);
        for (int i = 1; i <= 6; i++) sqlite3_bind_text(insert, i + 1, f[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(insert, 8, atoi(f[7]));
        sqlite3_bind_int(insert, 9, atoi(f[8]));
        bind_text_or_null(insert, 10, f[9]);
        bind_text_or_null(insert, 11, f[10]);
        sqlite3_bind_int64(insert, 12, u->version);
        sqlite3_bind_text(insert, 13, f[12], -1, SQLITE_STATIC);
        sqlite3_bind_double(insert, 14, strtod(f[13], NULL));
        sqlite3_bind_double(insert, 15, strtod(f[14], NULL));
        sqlite3_bind_text(insert, 16, f[15], -1, SQLITE_STATIC);
        if (check(main_db, sqlite3_step(insert), "INSERT")) {
            failed = 1;
            break;
        }
        sqlite3_reset(insert);
        user_count++;
        if (user_count % ROWS_PER_TRANSACTION == 0 &&
            check(main_db, sqlite3_exec(main_db, "COMMIT", NULL, NULL, NULL), "COMMIT")) {
            failed = 1;
            break;
        }
    }
    free(line);
    sqlite3_finalize(insert);
    if (!failed && user_count % ROWS_PER_TRANSACTION != 0 &&
        check(main_db, sqlite3_exec(main_db, "COMMIT", NULL, NULL, NULL), "COMMIT"))
        failed = 1;
    if (!failed)
        printf("{\"seconds\":%.9f,\"rows\":%zu}\n", now() - start, user_count);
done:
    fclose(input);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* open: every row into C structs                                                            */

/* A user as the program holds it: strings as offsets into one arena of copied bytes. */
typedef struct {
    unsigned char id[16];
    uint32_t text[11]; /* username, first, last, status, role, policies, password_hash,
                          api_password_hash, security_stamp, created_by; and an end marker */
    int api_access, must_change_password;
    int64_t version;
    double created_at, updated_at;
} loaded_user;

typedef struct {
    char *bytes;
    size_t used, capacity;
} arena;

/* Copies a column's text (NUL-terminated) into the arena; UINT32_MAX for NULL. */
static uint32_t arena_copy(arena *a, sqlite3_stmt *stmt, int column) {
    const unsigned char *text = sqlite3_column_text(stmt, column);
    if (!text) return UINT32_MAX;
    size_t length = (size_t)sqlite3_column_bytes(stmt, column);
    if (a->used + length + 1 > a->capacity) {
        size_t capacity = a->capacity ? a->capacity : 1 << 20;
        while (a->used + length + 1 > capacity) capacity *= 2;
        char *grown = realloc(a->bytes, capacity);
        if (!grown) return UINT32_MAX;
        a->bytes = grown;
        a->capacity = capacity;
    }
    memcpy(a->bytes + a->used, text, length + 1);
    uint32_t offset = (uint32_t)a->used;
    a->used += length + 1;
    return offset;
}

static void command_open(void) {
    close_all();
    double start = now();
    if (open_connection(&main_db)) return;
    sqlite3_stmt *select_all = NULL;
    if (check(main_db, sqlite3_prepare_v2(main_db, select_all_sql, -1, &select_all, NULL),
              "prepare SELECT"))
        return;
    size_t capacity = user_count > 0 ? user_count : 1024, count = 0;
    loaded_user *rows = malloc(capacity * sizeof *rows);
    arena text = {0};
    int rc;
    while ((rc = sqlite3_step(select_all)) == SQLITE_ROW) {
        if (count == capacity) {
            capacity *= 2;
            loaded_user *grown = realloc(rows, capacity * sizeof *rows);
            if (!grown) break;
            rows = grown;
        }
        loaded_user *row = &rows[count++];
        const void *id = sqlite3_column_blob(select_all, 0);
        if (id && sqlite3_column_bytes(select_all, 0) == 16) memcpy(row->id, id, 16);
        static const int text_columns[10] = {1, 2, 3, 4, 5, 6, 9, 10, 12, 15};
        for (int i = 0; i < 10; i++) row->text[i] = arena_copy(&text, select_all, text_columns[i]);
        row->text[10] = (uint32_t)text.used;
        row->api_access = sqlite3_column_int(select_all, 7);
        row->must_change_password = sqlite3_column_int(select_all, 8);
        row->version = sqlite3_column_int64(select_all, 11);
        row->created_at = sqlite3_column_double(select_all, 13);
        row->updated_at = sqlite3_column_double(select_all, 14);
    }
    sqlite3_finalize(select_all);
    double seconds = now() - start;
    if (rc != SQLITE_DONE) {
        check(main_db, rc, "SELECT");
    } else {
        /* Read something of every row so the copy cannot be optimised away. */
        uint64_t checksum = 0;
        for (size_t i = 0; i < count; i++) checksum += (uint64_t)rows[i].version + rows[i].id[3];
        printf("{\"seconds\":%.9f,\"rows\":%zu,\"text_bytes\":%zu,\"checksum\":%" PRIu64 "}\n",
               seconds, count, text.used, checksum);
    }
    free(rows);
    free(text.bytes);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* lookup                                                                                    */

/* One user read by the point query: every column copied into fixed-size fields. */
typedef struct {
    unsigned char id[16];
    char username[256], first_name[128], last_name[128], status[16], role[16];
    char policies[1024], password_hash[256], api_password_hash[256], security_stamp[64];
    char created_by[128];
    int api_access, must_change_password;
    int64_t version;
    double created_at, updated_at;
} user_row;

static void copy_column(char *out, size_t size, sqlite3_stmt *stmt, int column) {
    const unsigned char *text = sqlite3_column_text(stmt, column);
    if (!text) {
        out[0] = '\0';
        return;
    }
    size_t length = (size_t)sqlite3_column_bytes(stmt, column);
    if (length >= size) length = size - 1;
    memcpy(out, text, length);
    out[length] = '\0';
}

static void read_row(sqlite3_stmt *stmt, user_row *row) {
    const void *id = sqlite3_column_blob(stmt, 0);
    if (id && sqlite3_column_bytes(stmt, 0) == 16) memcpy(row->id, id, 16);
    copy_column(row->username, sizeof row->username, stmt, 1);
    copy_column(row->first_name, sizeof row->first_name, stmt, 2);
    copy_column(row->last_name, sizeof row->last_name, stmt, 3);
    copy_column(row->status, sizeof row->status, stmt, 4);
    copy_column(row->role, sizeof row->role, stmt, 5);
    copy_column(row->policies, sizeof row->policies, stmt, 6);
    row->api_access = sqlite3_column_int(stmt, 7);
    row->must_change_password = sqlite3_column_int(stmt, 8);
    copy_column(row->password_hash, sizeof row->password_hash, stmt, 9);
    copy_column(row->api_password_hash, sizeof row->api_password_hash, stmt, 10);
    row->version = sqlite3_column_int64(stmt, 11);
    copy_column(row->security_stamp, sizeof row->security_stamp, stmt, 12);
    row->created_at = sqlite3_column_double(stmt, 13);
    row->updated_at = sqlite3_column_double(stmt, 14);
    copy_column(row->created_by, sizeof row->created_by, stmt, 15);
}

static void command_keys(const char *file) {
    FILE *input = fopen(file, "r");
    if (!input) {
        answer_error("keys: cannot read the keys file", strerror(errno));
        return;
    }
    for (size_t i = 0; i < key_count; i++) free(keys[i]);
    free(keys);
    keys = NULL;
    key_count = 0;
    size_t capacity = 0;
    char *line = NULL;
    size_t line_capacity = 0;
    ssize_t length;
    while ((length = getline(&line, &line_capacity, input)) > 0) {
        while (length > 0 && (line[length - 1] == '\n' || line[length - 1] == '\r'))
            line[--length] = '\0';
        if (key_count == capacity) {
            capacity = capacity ? capacity * 2 : 4096;
            keys = realloc(keys, capacity * sizeof *keys);
        }
        keys[key_count++] = strdup(line);
    }
    free(line);
    fclose(input);
    if (!main_db) {
        answer_error("keys", "the database is not open");
        return;
    }
    sqlite3_finalize(lookup_stmt);
    lookup_stmt = NULL;
    if (check(main_db, sqlite3_prepare_v3(main_db, lookup_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                          &lookup_stmt, NULL), "prepare lookup"))
        return;
    printf("{\"keys\":%zu}\n", key_count);
    fflush(stdout);
}

static void command_lookup(long count) {
    if (!lookup_stmt || key_count == 0) {
        answer_error("lookup", "no keys loaded");
        return;
    }
    static user_row row;
    uint64_t checksum = 0;
    long found = 0;
    int rc = SQLITE_OK;
    double start = now();
    for (long i = 0; i < count; i++) {
        const char *key = keys[(size_t)i % key_count];
        sqlite3_bind_text(lookup_stmt, 1, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(lookup_stmt);
        if (rc == SQLITE_ROW) {
            read_row(lookup_stmt, &row);
            checksum += (uint64_t)row.version;
            found++;
        }
        sqlite3_reset(lookup_stmt);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) break;
    }
    double seconds = now() - start;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        check(main_db, rc, "lookup");
        return;
    }
    printf("{\"seconds\":%.9f,\"found\":%ld,\"checksum\":%" PRIu64 "}\n", seconds, found,
           checksum);
    fflush(stdout);
}

/* ---------------------------------------------------------------------------------------- */
/* updates                                                                                   */

/* One update of the user updated k-th, as its own transaction. Returns the SQLite result. */
static int update_one(sqlite3 *db, sqlite3_stmt *stmt, uint64_t k, long *busy_retries) {
    user_state *u = &users[user_for(k)];
    char name[32];
    snprintf(name, sizeof name, "Name%" PRIu64, k);
    for (;;) {
        sqlite3_bind_text(stmt, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(stmt, 2, u->version + 1);
        sqlite3_bind_double(stmt, 3, wall_seconds());
        sqlite3_bind_blob(stmt, 4, u->id, 16, SQLITE_STATIC);
        sqlite3_bind_int64(stmt, 5, u->version);
        int rc = sqlite3_step(stmt);
        sqlite3_reset(stmt);
        if ((rc & 0xFF) == SQLITE_BUSY) {
            /* The busy timeout ran out; try again (counted). */
            (*busy_retries)++;
            continue;
        }
        if (rc != SQLITE_DONE) return rc;
        if (sqlite3_changes(db) != 1) return SQLITE_NOTFOUND;
        u->version++;
        return SQLITE_DONE;
    }
}

static void command_seq(uint64_t base, long count) {
    if (!main_db || user_count == 0) {
        answer_error("seq", "the database is not open");
        return;
    }
    if (!update_stmt &&
        check(main_db, sqlite3_prepare_v3(main_db, update_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                          &update_stmt, NULL), "prepare UPDATE"))
        return;
    long retries = 0;
    int rc = SQLITE_DONE;
    double start = now();
    for (long i = 0; i < count && rc == SQLITE_DONE; i++)
        rc = update_one(main_db, update_stmt, base + (uint64_t)i, &retries);
    double seconds = now() - start;
    if (rc == SQLITE_NOTFOUND) answer_error("seq", "an UPDATE matched no row");
    else if (!check(main_db, rc, "UPDATE"))
        printf("{\"seconds\":%.9f,\"busy_retries\":%ld}\n", seconds, retries);
    fflush(stdout);
}

static void command_group_open(long threads) {
    if (threads < 1 || user_count == 0) {
        answer_error("group-open", "needs a populated database and at least one thread");
        return;
    }
    group_dbs = calloc((size_t)threads, sizeof *group_dbs);
    group_stmts = calloc((size_t)threads, sizeof *group_stmts);
    for (long t = 0; t < threads; t++) {
        group_count++;
        if (open_connection(&group_dbs[t])) return;
        if (check(group_dbs[t], sqlite3_prepare_v3(group_dbs[t], update_sql, -1,
                                                   SQLITE_PREPARE_PERSISTENT, &group_stmts[t],
                                                   NULL), "prepare UPDATE"))
            return;
    }
    printf("{\"connections\":%zu}\n", group_count);
    fflush(stdout);
}

typedef struct {
    pthread_barrier_t *ready;
    size_t thread;
    uint64_t base;
    long count;
    long retries;
    int rc;
} group_work;

static void *group_thread(void *argument) {
    group_work *work = argument;
    pthread_barrier_wait(work->ready);
    work->rc = SQLITE_DONE;
    for (long j = 0; j < work->count && work->rc == SQLITE_DONE; j++) {
        uint64_t k = work->base + (uint64_t)j * group_count + work->thread;
        work->rc = update_one(group_dbs[work->thread], group_stmts[work->thread], k,
                              &work->retries);
    }
    return NULL;
}

static void command_group(uint64_t base, long per_thread) {
    if (group_count == 0) {
        answer_error("group", "group-open first");
        return;
    }
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, (unsigned)group_count + 1);
    group_work *work = calloc(group_count, sizeof *work);
    pthread_t *threads = calloc(group_count, sizeof *threads);
    for (size_t t = 0; t < group_count; t++) {
        work[t] = (group_work){.ready = &ready, .thread = t, .base = base, .count = per_thread};
        pthread_create(&threads[t], NULL, group_thread, &work[t]);
    }
    pthread_barrier_wait(&ready);
    double start = now();
    for (size_t t = 0; t < group_count; t++) pthread_join(threads[t], NULL);
    double seconds = now() - start;
    pthread_barrier_destroy(&ready);
    long retries = 0;
    int failed = 0;
    for (size_t t = 0; t < group_count && !failed; t++) {
        retries += work[t].retries;
        if (work[t].rc == SQLITE_NOTFOUND) {
            answer_error("group", "an UPDATE matched no row");
            failed = 1;
        } else if (check(group_dbs[t], work[t].rc, "UPDATE")) {
            failed = 1;
        }
    }
    if (!failed)
        printf("{\"seconds\":%.9f,\"busy_retries\":%ld}\n", seconds, retries);
    fflush(stdout);
    free(work);
    free(threads);
}

/* serial: T threads, one connection, writes serialized by a mutex of the process           */

static pthread_mutex_t serial_mutex = PTHREAD_MUTEX_INITIALIZER;

typedef struct {
    pthread_barrier_t *ready;
    size_t thread, threads;
    uint64_t base;
    long count;
    long retries;
    int rc;
} serial_work;

static void *serial_thread(void *argument) {
    serial_work *work = argument;
    pthread_barrier_wait(work->ready);
    work->rc = SQLITE_DONE;
    for (long j = 0; j < work->count && work->rc == SQLITE_DONE; j++) {
        uint64_t k = work->base + (uint64_t)j * work->threads + work->thread;
        pthread_mutex_lock(&serial_mutex);
        work->rc = update_one(main_db, update_stmt, k, &work->retries);
        pthread_mutex_unlock(&serial_mutex);
    }
    return NULL;
}

static void command_serial(uint64_t base, long per_thread, long thread_count) {
    if (!main_db || user_count == 0 || thread_count < 1) {
        answer_error("serial", "the database is not open");
        return;
    }
    if (!update_stmt &&
        check(main_db, sqlite3_prepare_v3(main_db, update_sql, -1, SQLITE_PREPARE_PERSISTENT,
                                          &update_stmt, NULL), "prepare UPDATE"))
        return;
    size_t count = (size_t)thread_count;
    pthread_barrier_t ready;
    pthread_barrier_init(&ready, NULL, (unsigned)count + 1);
    serial_work *work = calloc(count, sizeof *work);
    pthread_t *threads = calloc(count, sizeof *threads);
    for (size_t t = 0; t < count; t++) {
        work[t] = (serial_work){.ready = &ready, .thread = t, .threads = count, .base = base,
                                .count = per_thread};
        pthread_create(&threads[t], NULL, serial_thread, &work[t]);
    }
    pthread_barrier_wait(&ready);
    double start = now();
    for (size_t t = 0; t < count; t++) pthread_join(threads[t], NULL);
    double seconds = now() - start;
    pthread_barrier_destroy(&ready);
    long retries = 0;
    int failed = 0;
    for (size_t t = 0; t < count && !failed; t++) {
        retries += work[t].retries;
        if (work[t].rc == SQLITE_NOTFOUND) {
            answer_error("serial", "an UPDATE matched no row");
            failed = 1;
        } else if (check(main_db, work[t].rc, "UPDATE")) {
            failed = 1;
        }
    }
    if (!failed)
        printf("{\"seconds\":%.9f,\"busy_retries\":%ld}\n", seconds, retries);
    fflush(stdout);
    free(work);
    free(threads);
}

/* ---------------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
    if (argc != 3 || strcmp(argv[1], "--serve") != 0) {
        fprintf(stderr, "usage: %s --serve DIRECTORY\n", argv[0]);
        return 2;
    }
    if (mkdir(argv[2], 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "sqlite_ref: cannot create %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    snprintf(db_path, sizeof db_path, "%s/users.db", argv[2]);
    printf("{\"reference_name\":\"SQLite %s (C API; WAL, synchronous=FULL)\","
           "\"threadsafe\":%d}\n",
           sqlite3_libversion(), sqlite3_threadsafe());
    fflush(stdout);

    char *line = NULL;
    size_t capacity = 0;
    while (getline(&line, &capacity, stdin) > 0) {
        line[strcspn(line, "\r\n")] = '\0';
        char *command = strtok(line, " ");
        char *first = strtok(NULL, " ");
        char *second = strtok(NULL, " ");
        char *third = strtok(NULL, " ");
        if (!command) continue;
        if (strcmp(command, "populate") == 0 && first) command_populate(first);
        else if (strcmp(command, "close") == 0) {
            close_all();
            printf("{\"ok\":true}\n");
            fflush(stdout);
        } else if (strcmp(command, "open") == 0) command_open();
        else if (strcmp(command, "keys") == 0 && first) command_keys(first);
        else if (strcmp(command, "lookup") == 0 && first) command_lookup(atol(first));
        else if (strcmp(command, "seq") == 0 && first && second)
            command_seq(strtoull(first, NULL, 10), atol(second));
        else if (strcmp(command, "group-open") == 0 && first) command_group_open(atol(first));
        else if (strcmp(command, "group") == 0 && first && second)
            command_group(strtoull(first, NULL, 10), atol(second));
        else if (strcmp(command, "serial") == 0 && first && second && third)
            command_serial(strtoull(first, NULL, 10), atol(second), atol(third));
        else if (strcmp(command, "quit") == 0) break;
        else answer_error("unknown command", command);
    }
    free(line);
    close_all();
    return 0;
}
