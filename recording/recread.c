/* Opening a recording: read-only through recording/recvfs (no file is ever written,
 * made or removed), with every query interruptible by a stop signal; the file
 * checked to be leaktop's (its tables, their columns and types, no view or trigger,
 * no SQL of the file's run), its meta table read and its format version parsed. A
 * side file beside it is read only when it is the file's own: format 3 has none,
 * and a format 2 file's WAL must leave the file's own meta and refreshes as they
 * are (another recording's WAL would replace them) and be used by nobody else. */
#include "config.h"

#include "recording/recread.h"
#include "sources/stop.h"
#include "recording/recvfs.h"
#include "recording/schema.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- stopping ------------------------------------------------------------------ */

/* Every 1000 SQLite steps: a query of any file ends soon after a stop signal (a flag
 * registered with stop_on, sources/stop.h): whatever a file holds, leaktop stops
 * when asked; the query fails with SQLITE_INTERRUPT. */
static int progress(void *ctx)
{
	(void)ctx;
	return stop_asked();
}

/* --- the file ------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The database header, when the file starts with one. */
static bool read_header(const char *path, unsigned char h[100])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	bool ok = false;

	if (fd >= 0) {
		ok = pread(fd, h, 100, 0) == 100 && !memcmp(h, "SQLite format 3", 16);
		close(fd);
	}
	return ok;
}

/* A file in WAL mode (format 2 wrote them so). */
static bool wal_mode(const char *path)
{
	unsigned char h[100];
	return read_header(path, h) && (h[18] == 2 || h[19] == 2);
}

bool recread_cut_short(const char *path, long long *have, long long *want)
{
	unsigned char h[100];
	struct stat st;

	*have = *want = 0;
	/* The page count in the header is valid when its change counter is (a WAL-mode
	 * file's may hold less than its WAL: not cut). */
	if (!read_header(path, h) || be32(h + 24) != be32(h + 92) || h[18] == 2 || stat(path, &st))
		return false;
	uint32_t page = (uint32_t)h[16] << 8 | h[17];
	*have = st.st_size;
	*want = (long long)be32(h + 28) * (page == 1 ? 65536 : page);
	return *want > *have;
}

void recread_damage(const char *path, bool salvage, char *buf, size_t n)
{
	long long have, want;
	size_t len;

	if (recread_cut_short(path, &have, &want))
		snprintf(buf, n, "%s is cut short (%lld of %lld bytes)", path, have, want);
	else
		snprintf(buf, n, "%s is damaged", path);
	len = strlen(buf);
	if (salvage)
		snprintf(buf + len, n - len, "; salvage what is left: sqlite3 -cmd 'PRAGMA writable_schema=ON' %s "
			 "'.clone fixed.db'", path);
	else
		snprintf(buf + len, n - len, " and its first pages (its tables and settings) are lost: nothing in it can be "
			 "replayed");
}

int recread_unreadable(sqlite3 *db, const char *path, int rc, char **cause)
{
	char damage[4096 + 256];

	if ((rc & 0xff) == SQLITE_INTERRUPT)
		return text_cause(cause, -EINTR, "reading %s: stopped", path);
	recread_damage(path, false, damage, sizeof(damage));
	if (sqlite3_errcode(db) == SQLITE_OK)
		return text_cause(cause, -EILSEQ, "%s", damage);
	return text_cause(cause, rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ, "%s (%s)", damage, sqlite3_errmsg(db));
}

/* Open read-only through vfs, configured so the file's SQL never runs: no trigger,
 * no view, no function with side effects from its schema, no file larger than a
 * thread dump in one value, and every query interruptible. */
static int open_db(const char *path, const char *vfs, sqlite3 **out)
{
	sqlite3 *db = NULL;
	/* One thread uses a connection at a time: no mutex around every column read. */
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, vfs);

	if (rc != SQLITE_OK) {
		if (db)
			rc = sqlite3_extended_errcode(db);
		sqlite3_close(db);
		*out = NULL;
		return rc;
	}
	sqlite3_extended_result_codes(db, 1);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_VIEW, 0, NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	/* A file cut short (its header counts pages it no longer has) is read as far as
	 * it goes instead of refused whole; this connection never writes (and so is not
	 * made DEFENSIVE, which would undo this). */
	sqlite3_db_config(db, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 1, NULL);
	/* The longest value a live run writes is the first frame of a box with millions
	 * of sockets; past this a file is hostile (thread dumps are kept up to 8 MB). */
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 256 << 20);
	sqlite3_progress_handler(db, 1000, progress, NULL);
	sqlite3_busy_timeout(db, 5000);
	/* A replay rereads the same pages refresh after refresh: keep them (64 MB). */
	sqlite3_exec(db, "PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA cell_size_check = ON; "
			 "PRAGMA query_only = 1", NULL, NULL, NULL);
	*out = db;
	return SQLITE_OK;
}

/* --- the schema ------------------------------------------------------------------ */

/* Whether name is one of leaktop's tables (any format): *t which. */
static bool our_table(const char *name, enum schema_table *t)
{
	for (unsigned i = 0; i < TB_COUNT; i++)
		if (!strcmp(name, schema_tables[i].name)) {
			*t = (enum schema_table)i;
			return true;
		}
	return false;
}

/* The first word of a declared type: "INTEGER" of "INTEGER NOT NULL". */
static bool same_type(const char *declared, const char *ours)
{
	size_t n = strcspn(ours, " ");
	return declared && strlen(declared) == n && !strncasecmp(declared, ours, n);
}

/* The columns of table t in the file, as a file of format ver has them: the same
 * names in the same order, the same types, none hidden or generated. */
static int check_columns(sqlite3 *db, enum schema_table t, unsigned ver, char *why, size_t n)
{
	sqlite3_stmt *q;
	unsigned c = 0;
	char name[32];
	int rc = sqlite3_prepare_v2(db, "SELECT name, type, hidden FROM pragma_table_xinfo(?1)", -1, &q, NULL);

	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(q, 1, schema_tables[t].name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *got = (const char *)sqlite3_column_text(q, 0), *type = (const char *)sqlite3_column_text(q, 1);
		while (c < schema_tables[t].ncols && !schema_has_col(t, c, ver))
			c++;
		if (c >= schema_tables[t].ncols || !got || strcmp(got, schema_col_name(t, c, name, sizeof(name))) ||
		    !same_type(type, schema_tables[t].cols[c].type) || sqlite3_column_int(q, 2) != 0) {
			snprintf(why, n, "its table %s has a column %.40s%s where leaktop has %s", schema_tables[t].name,
				 got ? got : "?", c < schema_tables[t].ncols ? "" : " more",
				 c < schema_tables[t].ncols ? schema_col_name(t, c, name, sizeof(name)) : "none");
			break;
		}
		c++;
	}
	sqlite3_finalize(q);
	if (rc == SQLITE_ROW)
		return SQLITE_CONSTRAINT; /* why says which */
	if (rc != SQLITE_DONE)
		return rc;
	while (c < schema_tables[t].ncols && !schema_has_col(t, c, ver))
		c++;
	if (c < schema_tables[t].ncols) {
		snprintf(why, n, "its table %s has no column %s", schema_tables[t].name, schema_col_name(t, c, name, sizeof(name)));
		return SQLITE_CONSTRAINT;
	}
	return SQLITE_OK;
}

/* sqlite_master: no view and no trigger anywhere (leaktop makes none: one in a
 * recording was put there to run), and which of leaktop's tables there are, as
 * plain tables. */
static int check_master(sqlite3 *db, bool have[TB_COUNT], unsigned *count, char *why, size_t n)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master", -1, &q, NULL);

	memset(have, 0, TB_COUNT * sizeof(have[0]));
	*count = 0;
	if (rc != SQLITE_OK)
		return rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(q, 0), *name = (const char *)sqlite3_column_text(q, 1);
		const char *sql = (const char *)sqlite3_column_text(q, 2);
		enum schema_table t;
		char esc[64];
		(*count)++;
		if (!type || !name)
			continue;
		text_escape(esc, sizeof(esc), name, strlen(name));
		if (!strcmp(type, "view") || !strcmp(type, "trigger")) {
			snprintf(why, n, "it has a %s (%s), which no leaktop makes", type, esc);
			rc = SQLITE_CONSTRAINT;
			break;
		}
		if (!strcmp(type, "table") && our_table(name, &t)) {
			if (!sql || strncasecmp(sql, "CREATE TABLE", 12)) {
				snprintf(why, n, "its table %s is not a plain table", esc);
				rc = SQLITE_CONSTRAINT;
				break;
			}
			have[t] = true;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* --- meta -------------------------------------------------------------------------- */

static int prepare_meta(sqlite3 *db, sqlite3_stmt **q)
{
	char *sql = NULL;
	int rc;

	if (asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1", schema_tables[TB_META].cols[META_VALUE].name,
		     schema_tables[TB_META].name, schema_tables[TB_META].cols[META_KEY].name) < 0)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, q, NULL);
	free(sql);
	return rc;
}

/* A meta value, escaped like any text from the file (a host name is printed). */
static const char *meta_get(sqlite3_stmt *q, enum schema_meta key, char *buf, size_t n)
{
	const char *v = NULL, *s;

	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, schema_meta_keys[key], -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && (s = (const char *)sqlite3_column_text(q, 0))) {
		recread_copy_text(buf, n, s, strnlen(s, (size_t)sqlite3_column_bytes(q, 0)));
		v = buf;
	}
	return v;
}

/* A number from the meta table, 0 when missing or not one a live run can write. */
static double meta_num(sqlite3_stmt *q, enum schema_meta key, double max)
{
	char buf[64];
	double v;

	if (!meta_get(q, key, buf, sizeof(buf)))
		return 0;
	v = strtod(buf, NULL);
	return isfinite(v) && v >= 0 && v <= max ? v : 0;
}

/* "MAJOR.MINOR", each a decimal number; one too large for an int reads as a newer
 * format than any (INT_MAX). Returns false for anything else. */
static bool parse_version(const char *s, int *major, int *minor)
{
	long long v[2] = {0, 0};

	for (int i = 0; i < 2; i++) {
		if (*s < '0' || *s > '9')
			return false;
		for (; *s >= '0' && *s <= '9'; s++)
			v[i] = v[i] > 100000000 ? 1000000000 : v[i] * 10 + (*s - '0');
		if (i == 0 && *s++ != '.')
			return false;
	}
	if (*s)
		return false;
	*major = v[0] >= 1000000000 ? INT32_MAX : (int)v[0];
	*minor = v[1] >= 1000000000 ? INT32_MAX : (int)v[1];
	return true;
}

/* The meta table and the version; the tables a file of that version has, checked.
 * *why (cause) set on failure. */
static int check_db(sqlite3 *db, const char *path, struct record_info *info, char **cause)
{
	sqlite3_stmt *q = NULL;
	bool have[TB_COUNT];
	unsigned entries, ver;
	char buf[256], why[256] = "";
	int rc = check_master(db, have, &entries, why, sizeof(why));

	if (rc == SQLITE_CONSTRAINT)
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording: %s", path, why);
	if (rc != SQLITE_OK)
		return recread_unreadable(db, path, rc, cause);
	long long size, promised;
	if (!entries) {
		if (recread_cut_short(path, &size, &promised))
			return recread_unreadable(db, path, SQLITE_CORRUPT, cause);
		if (wal_mode(path))
			return text_cause(cause, -ENODATA, "%s holds no refresh: it has no tables (a format 2 recording copied "
					  "without its %s-wal, or one whose leaktop was killed while creating it)", path, path);
		return text_cause(cause, -ENODATA, "%s holds no refresh: it has no tables (the leaktop creating it was "
				  "killed before its first refresh)", path);
	}
	if (!have[TB_META])
		return text_cause(cause, -EINVAL, "%s is damaged or not a leaktop recording: it has no meta table", path);
	if ((rc = check_columns(db, TB_META, SCHEMA_V_NOW, why, sizeof(why))) == SQLITE_CONSTRAINT)
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording: %s", path, why);
	if (rc == SQLITE_OK)
		rc = prepare_meta(db, &q);
	if (rc != SQLITE_OK)
		return recread_unreadable(db, path, rc, cause);
	if (!meta_get(q, META_FORMAT_VERSION, buf, sizeof(buf))) {
		sqlite3_finalize(q);
		/* The meta table's page is past the end of a file cut short. */
		if (recread_cut_short(path, &size, &promised))
			return recread_unreadable(db, path, SQLITE_CORRUPT, cause);
		return text_cause(cause, -EINVAL, "%s is damaged or not a leaktop recording: no format version", path);
	}
	if (!parse_version(buf, &info->major, &info->minor)) {
		sqlite3_finalize(q);
		return text_cause(cause, -EINVAL, "%s is damaged or not a leaktop recording: its format version is '%.40s'",
				  path, buf);
	}
	/* An older major is refused too: a 1.x file has no socket kinds, UNIX names,
	 * namespaces or CLOSED fds, so its replay could not print what the live run did. */
	if (info->major < RECORD_FORMAT_OLDEST || info->major > RECORD_FORMAT_MAJOR) {
		sqlite3_finalize(q);
		return text_cause(cause, -EPROTONOSUPPORT,
				  "%s is a format %.40s recording, from %s leaktop; this leaktop %s reads formats %d.x to %d.x",
				  path, buf, info->major > RECORD_FORMAT_MAJOR ? "a newer" : "an older", PACKAGE_VERSION,
				  RECORD_FORMAT_OLDEST, RECORD_FORMAT_MAJOR);
	}
	ver = SCHEMA_V(info->major, info->minor > 0xffff ? 0xffff : info->minor);
	for (unsigned t = 0; t < TB_COUNT; t++) {
		if (!schema_has_table((enum schema_table)t, ver))
			continue;
		if (!have[t]) {
			sqlite3_finalize(q);
			return text_cause(cause, -EINVAL, "%s is damaged or not a leaktop recording: it has no table %s", path,
					  schema_tables[t].name);
		}
		if ((rc = check_columns(db, (enum schema_table)t, ver, why, sizeof(why))) != SQLITE_OK) {
			sqlite3_finalize(q);
			if (rc == SQLITE_CONSTRAINT)
				return text_cause(cause, -EINVAL, "%s is not a leaktop recording: %s", path, why);
			return recread_unreadable(db, path, rc, cause);
		}
	}
	meta_get(q, META_HOST, info->host, sizeof(info->host));
	meta_get(q, META_KERNEL, info->kernel, sizeof(info->kernel));
	meta_get(q, META_LEAKTOP_VERSION, info->version, sizeof(info->version));
	/* Numbers no live run writes (an edited file) read as missing: 0. */
	info->interval = meta_num(q, META_INTERVAL, 86400);
	info->start_time = meta_num(q, META_START_TIME, 1e11);
	info->boot_time = meta_num(q, META_BOOT_TIME, 1e11);
	info->clk_tck = (long)meta_num(q, META_CLK_TCK, 1e6);
	sqlite3_finalize(q);
	return 0;
}

/* 0: a leaktop recording (app id 'LKTP'), or one whose header lost it (a copy
 * salvaged by the sqlite3 shell's .clone, which keeps no header field: the meta
 * table decides). */
static int check_app_id(sqlite3 *db, const char *path, char **cause)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL), app = 0;

	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		app = sqlite3_column_int(q, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	if ((rc & 0xff) == SQLITE_NOTADB || (rc == SQLITE_OK && app != RECORD_APP_ID && app != 0))
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording", path);
	if (rc != SQLITE_OK)
		return recread_unreadable(db, path, rc, cause);
	return 0;
}

/* --- side files ------------------------------------------------------------------ */

/* What the reader left out, for the front end to say: one line, "; " between two. */
__attribute__((format(printf, 2, 3))) static void warn(struct record_info *info, const char *fmt, ...)
{
	size_t len = strlen(info->warning);
	va_list ap;

	if (len && len + 2 < sizeof(info->warning)) {
		memcpy(info->warning + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(info->warning + len, sizeof(info->warning) - len, fmt, ap);
	va_end(ap);
}

/* A journal left beside a format 2 file by a writer killed mid-write (sqlite3 editing
 * it): the file is half written and a read-only reader cannot roll it back. The
 * original size in its header tells whether anything was committed before (0: the
 * file was being created). One that is not a regular file of the recording's owner
 * is someone else's: left out, and said. Format 3 keeps its journal in memory: one
 * beside it is another program's. */
static int hot_journal(const char *path, const struct stat *file, struct record_info *info, char **cause)
{
	unsigned char h[28];
	char name[4096];
	bool hot = false, empty = false;
	struct stat st;
	int fd;

	snprintf(name, sizeof(name), "%s-journal", path);
	if (lstat(name, &st))
		return 0;
	if (!S_ISREG(st.st_mode) || st.st_uid != file->st_uid) {
		warn(info, "%s is not the recording's (not a regular file of its owner): not read", name);
		return 0;
	}
	if ((fd = open(name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return 0;
	if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h)) {
		hot = h[0] != 0;
		empty = be32(h + 16) == 0;
	}
	close(fd);
	if (!hot)
		return 0;
	if (empty)
		return text_cause(cause, -ENODATA,
				  "%s holds no refresh: the leaktop creating it was killed before its first one "
				  "(%s is the journal it left)", path, name);
	return text_cause(cause, -EACCES,
			  "%s has a journal (%s) left by a writer that was killed, which a read-only replay cannot "
			  "roll back: as the file's owner run sqlite3 %s 'PRAGMA integrity_check' once, then replay it",
			  path, name, path);
}

static const char *owner_name(uid_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, n, "%s", pw.pw_name);
	else
		snprintf(buf, n, "uid %u", (unsigned)uid);
	return buf;
}

/* Whether another process has FILE-shm open as SQLite does (a read lock on its
 * dead-man byte): a WAL in use, which its writer may reuse under a reader that does
 * not share its index. */
static bool wal_in_use(const char *path)
{
	char shm[4096];
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = RECVFS_SHM_DMS, .l_len = 1};
	int fd;
	bool used = false;

	snprintf(shm, sizeof(shm), "%s-shm", path);
	if ((fd = open(shm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0)
		return false;
	if (fcntl(fd, F_OFD_GETLK, &fl) == 0)
		used = fl.l_type != F_UNLCK;
	close(fd);
	return used;
}

/* What a reader sees of the recording: its meta table and its refreshes (tick and
 * time), one line each. */
static char *what_it_holds(sqlite3 *db)
{
	sqlite3_stmt *q;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM meta ORDER BY key", -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW)
			fprintf(f, "%s=%s\n", sqlite3_column_text(q, 0), sqlite3_column_text(q, 1));
		sqlite3_finalize(q);
	}
	if (sqlite3_prepare_v2(db, "SELECT tick, time FROM refresh ORDER BY tick", -1, &q, NULL) == SQLITE_OK) {
		while (sqlite3_step(q) == SQLITE_ROW)
			fprintf(f, "%lld %.17g\n", (long long)sqlite3_column_int64(q, 0), sqlite3_column_double(q, 1));
		sqlite3_finalize(q);
	}
	fclose(f);
	return out;
}

/* Whether the recording read with FILE-wal (wal) is the file alone (alone, NULL
 * when it has no tables) grown: the same meta table, and every refresh of the file
 * still there with its time. Another recording's WAL replaces the pages of both. */
static bool same_recording(sqlite3 *alone, sqlite3 *wal)
{
	char *a = alone ? what_it_holds(alone) : NULL, *b = what_it_holds(wal);
	bool same = b && (!alone || (a && !strncmp(a, b, strlen(a))));

	free(a);
	free(b);
	return same;
}

/* A format 2 file with a WAL beside it: *db becomes the connection that reads it
 * when it is the file's own and nobody else uses it; else info->warning says why it
 * was left out. *db NULL: the file alone has no tables (info comes from the WAL). */
static void take_wal(sqlite3 **db, const char *path, const struct stat *file, struct record_info *info)
{
	char wal[4096], who[64], *sink = NULL;
	struct stat st;
	sqlite3 *with = NULL;
	struct record_info winfo;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (lstat(wal, &st) || (S_ISREG(st.st_mode) && st.st_size == 0))
		return;
	if (!S_ISREG(st.st_mode))
		warn(info, "%s is not a regular file: not read", wal);
	else if (st.st_uid != file->st_uid)
		warn(info, "%s belongs to %s, not to the recording's owner: not read",
			 wal, owner_name(st.st_uid, who, sizeof(who)));
	else if (wal_in_use(path))
		warn(info, "%s is in use by another program (an older leaktop still "
			 "recording?): only the refreshes already in %s are read", wal, path);
	else if (open_db(path, RECVFS_READ_WAL, &with) != SQLITE_OK || check_db(with, path, &winfo, &sink) ||
		 winfo.major != RECORD_FORMAT_OLDEST)
		warn(info, "%s cannot be read with %s: not read", wal, path);
	else if (!same_recording(*db, with))
		warn(info, "%s is not this recording's (it would change its meta "
			 "table or refreshes): not read", wal);
	else {
		if (!*db) /* the file alone had no tables: its meta is in the WAL */
			*info = winfo;
		sqlite3_close(*db);
		*db = with;
		with = NULL;
	}
	free(sink);
	sqlite3_close(with);
}

/* --- open ------------------------------------------------------------------------- */

int recread_open(struct sqlite3 **out, const char *path, struct record_info *info, char **cause)
{
	sqlite3 *db = NULL;
	struct stat st;
	char wal[4096];
	int rc;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (stat(path, &st))
		return text_cause(cause, -errno, "cannot open %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording (not a regular file)", path);
	if (st.st_size == 0)
		return text_cause(cause, -ENODATA, "%s is empty: nothing was recorded in it (a leaktop killed while "
				  "creating it leaves it so)", path);
	if ((rc = recvfs_register()) != SQLITE_OK)
		return text_cause(cause, -ENOMEM, "cannot read %s: %s", path, sqlite3_errstr(rc));
	if ((rc = open_db(path, RECVFS_READ, &db)) != SQLITE_OK)
		return text_cause(cause, recread_errno(rc), "cannot open %s: %s", path, sqlite3_errstr(rc));
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (!(rc = check_app_id(db, path, cause)))
		rc = check_db(db, path, info, cause);
	/* A format 2 file whose tables are all still in its WAL. */
	if (rc == -ENODATA && wal_mode(path) && access(wal, F_OK) == 0) {
		if (cause) {
			free(*cause);
			*cause = NULL;
		}
		sqlite3_close(db);
		db = NULL;
		take_wal(&db, path, &st, info);
		if (!db) {
			rc = text_cause(cause, -ENODATA, "%s holds no refresh: it has no tables, and %s", path,
					info->warning[0] ? info->warning : "its WAL cannot be read");
			goto fail;
		}
		rc = 0;
	} else if (rc) {
		/* A writer killed in the middle of writing it (sqlite3 editing it, or
		 * creating it) left a journal: that, not the half-written file, is what to
		 * say. */
		struct record_info none;
		char *why = NULL;
		memset(&none, 0, sizeof(none));
		int jrc = hot_journal(path, &st, &none, &why);
		if (jrc && cause) {
			free(*cause);
			*cause = why;
			rc = jrc;
		} else {
			free(why);
		}
		goto fail;
	} else if (info->major < 3) {
		if ((rc = hot_journal(path, &st, info, cause)))
			goto fail;
		take_wal(&db, path, &st, info);
	} else {
		struct stat side;
		char journal[4096];
		snprintf(journal, sizeof(journal), "%s-journal", path);
		/* Format 3 writes neither: one there is another program's (or a copy's). */
		if (lstat(wal, &side) == 0)
			warn(info, "%s is beside %s, which leaktop never writes (another SQLite program's?): not read", wal, path);
		if (lstat(journal, &side) == 0)
			warn(info, "%s is beside %s, which leaktop never writes (another SQLite program's?): not read", journal,
			     path);
	}
	*out = db;
	return 0;
fail:
	sqlite3_close(db);
	return rc;
}

void recread_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int recread_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_PERM: case SQLITE_READONLY: case SQLITE_AUTH: return -EACCES;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_INTERRUPT: return -EINTR;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: case SQLITE_FORMAT: return -EILSEQ;
	default: return -EIO;
	}
}
