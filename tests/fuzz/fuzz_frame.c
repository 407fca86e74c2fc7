/* libFuzzer target: a format 3 recording's frames (recording/frame.c), behind their CRC:
 * the input is a frame's rows (the header and the CRC are added here, so every input
 * reaches them), decoded and read by the replay's checked readers. A row the readers
 * take is one a writer could have made: written again, it reads back the same. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "recording/frame.h"
#include "model/snapshot.h"
#include "recording/recread.h"

/* The replay's reader of a row of table t (recording/replay_load.c reads them so). */
static void read_row(enum schema_table t, struct recread_row *x)
{
	static struct snapshot *s;
	struct proc_rec p;
	struct sock_rec k;
	struct port_agg a;
	int64_t proc, v;
	int32_t fd;
	uint32_t inode;
	uint64_t ns;
	struct sock_addr6 addr;
	bool dumped, own;
	char *name = NULL;
	struct record_event ev;

	if (!s && !(s = snapshot_new()))
		abort();
	switch (t) {
	case TB_PROC: recread_proc_id(x, 0, &p); break;
	case TB_PROC_CHANGE: recread_proc_ch(x, SCHEMA_CHANGE_FIRST, &p); break;
	case TB_FD: recread_fd(x, 0, &proc, &fd, &inode); break;
	case TB_SOCK:
		if (recread_sock_id(x, 0, &k, &ns, &addr, &name) != 0)
			abort();
		free(name);
		break;
	case TB_SOCK_CHANGE: recread_sock_ch(x, SCHEMA_CHANGE_FIRST, &k); break;
	case TB_PORT: recread_port_id(x, 0, &a); break;
	case TB_PORT_CHANGE: recread_port_ch(x, SCHEMA_CHANGE_FIRST, &a); break;
	case TB_NETNS: recread_netns(x, 0, &ns, &dumped, &own); break;
	case TB_REFRESH: recread_refresh(x, s); break;
	case TB_EVENT:
		if (recread_event(x, 0, &ev) == 0) {
			free((char *)ev.what);
			free((char *)ev.result);
		}
		break;
	default:
		for (unsigned c = 0; c < schema_tables[t].ncols; c++)
			if (schema_col_vt(t, c) == VT_INT)
				recread_int(x, (int)c, t, c, &v);
		break;
	}
}

static bool same(enum schema_table t, const struct frame_value *a, const struct frame_value *b)
{
	for (unsigned c = 0; c < schema_tables[t].ncols; c++) {
		if (a[c].type != b[c].type)
			return false;
		if (a[c].type == FV_INT && a[c].i != b[c].i)
			return false;
		if (a[c].type == FV_REAL && memcmp(&a[c].d, &b[c].d, sizeof(double)))
			return false;
		if ((a[c].type == FV_TEXT || a[c].type == FV_BLOB) &&
		    (a[c].n != b[c].n || (a[c].n && memcmp(a[c].p, b[c].p, a[c].n))))
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size + 7);
	struct frame_value vals[FRAME_MAX_COLS], again[FRAME_MAX_COLS];
	struct frame_reader r, r2;
	struct frame_buf out = {0};
	enum schema_table t, t2;
	int got;

	if (!buf)
		abort();
	memcpy(buf, "LF\1", 3);
	memcpy(buf + 3, data, size);
	uint32_t crc = frame_crc32(0, buf, size + 3);
	for (int i = 0; i < 4; i++)
		buf[size + 3 + (size_t)i] = (uint8_t)(crc >> (8 * i));
	if (frame_open(&r, buf, size + 7, SCHEMA_V_NOW))
		abort(); /* its own CRC */
	frame_begin(&out);
	while ((got = frame_next(&r, &t, vals)) == 1) {
		struct recread_row x = RECREAD_FRAME_ROW(vals, (int)schema_tables[t].ncols);
		read_row(t, &x);
		if (x.bad || strchr(x.why, '\n'))
			continue;
		/* Taken: the writer could have written it. Written alone (each row of a
		 * frame is coded against the one before it), it reads back the same. */
		frame_begin(&out);
		if (frame_add_row(&out, t, vals) != 0 || frame_end(&out) != 0)
			continue; /* a value the writer refuses (negative in a nullable column) */
		if (frame_open(&r2, out.b, out.len, SCHEMA_V_NOW) || frame_next(&r2, &t2, again) != 1 || t2 != t ||
		    !same(t, vals, again)) {
			fprintf(stderr, "a row of table %s does not read back as written\n", schema_tables[t].name);
			abort();
		}
	}
	frame_free(&out);
	free(buf);
	return 0;
}
