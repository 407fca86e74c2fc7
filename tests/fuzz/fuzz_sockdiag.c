/* libFuzzer target: sock_diag netlink replies (sockdiag_parse_proto), then what the
 * batch output and the sockets pane make of the sockets they describe. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "sources/sockdiag.h"
#include "model/snapshot.h"
#include "outputs/batch.h"
#include "model/view.h"

#include <netinet/in.h>
#include <sys/socket.h>

/* Input: one byte picking the dump asked for, then buffers as the kernel returns
 * them, each a 4-byte little-endian length then its bytes (sockdiag_record's format,
 * so a recorded fixture with a byte in front is a seed). */
static const struct { uint8_t family, proto; } dumps[] = {
	{AF_INET, IPPROTO_TCP}, {AF_INET6, IPPROTO_UDP}, {AF_UNIX, 0},
	{AF_NETLINK, 0}, {AF_PACKET, 0}, {AF_INET, IPPROTO_RAW},
};

static FILE *devnull;

static void show(struct snapshot *s)
{
	if (snapshot_build(s))
		return;
	struct batch_opts o = { .format = FMT_JSON, .sockets = true, .clk_tck = 100 };
	batch_write(devnull, s, NULL, &o);
	o.format = FMT_TEXT;
	batch_write(devnull, s, NULL, &o);
	o.format = FMT_OPENMETRICS;
	batch_write(devnull, s, NULL, &o);

	struct view_ctx c = { .s = s };
	const struct view_table_def *t = &view_tables[VT_SOCKS];
	char cell[256];
	for (uint32_t i = 0; i < s->nsocks; i++)
		for (size_t col = 0; col < t->ncols; col++)
			if (t->cols[col].fmt)
				t->cols[col].fmt(&c, i, cell, sizeof(cell));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!devnull && !(devnull = fopen("/dev/null", "we")))
		abort();
	uint8_t which = data[0] % (sizeof(dumps) / sizeof(dumps[0]));
	data++, size--;

	struct snapshot *s = snapshot_new();
	if (!s)
		abort();
	int rc = 1;
	while (rc == 1 && size >= 4) {
		uint32_t len = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16 |
			       (uint32_t)data[3] << 24;
		data += 4, size -= 4;
		if (len > size)
			len = (uint32_t)size;
		/* A copy of its exact size, aligned as recv's buffer is: ASan sees any
		 * read past the end. */
		void *buf = malloc(len ? len : 1);
		if (!buf)
			abort();
		memcpy(buf, data, len);
		char *cause = NULL;
		rc = sockdiag_parse_proto(buf, len, 0, 0, dumps[which].family, dumps[which].proto, s,
					  4026531840u, &cause);
		if (rc < 0 && (!cause || !*cause))
			abort(); /* an error always says why */
		free(cause);
		free(buf);
		data += len, size -= len;
	}
	show(s);
	snapshot_free(s);
	return 0;
}
