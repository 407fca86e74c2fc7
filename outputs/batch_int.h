/* Inside batch output: the walk of one refresh (batch.c) and the two ways it is
 * shown, text (batch_text.c) and JSON (batch_json.c). The walk chooses the rows and
 * their order once; an output only says how a part and a row look, so the two
 * cannot list different things. */
#ifndef LEAKTOP_BATCH_INT_H
#define LEAKTOP_BATCH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model/view.h"
#include "outputs/batch.h"

struct jsonw;

/* The parts of a refresh after its head, in the order they go out. */
enum batch_part { BP_PROCS, BP_PORTS, BP_BACKLOG, BP_ALERTS, BP_SOCKETS, BP_COUNT };

/* One part's rows: indices into the snapshot's procs, ports or socks, or into the
 * alerts' events (rows NULL: 0 to n-1). A part not shown (the sockets without
 * --sockets) is not walked at all. */
struct batch_list {
	const uint32_t *rows;
	size_t n;
	bool shown;
};

struct batch_ctx {
	FILE *f;
	const struct snapshot *s;
	const struct history *h;        /* may be NULL: no history yet */
	const struct batch_opts *o;
	double file_growth, file_eta;   /* fs.file-nr's, NAN when not known */
	int32_t *owner_head, *owner_next; /* JSON sockets: each socket's (pid, fd) chain */
	struct jsonw *w;                /* JSON */
	struct view_ctx view;           /* text: what the columns format from */
	enum view_table table;          /* text: the table being written, its columns */
	uint8_t cols[VIEW_MAX_COLS];
	size_t ncols;
};

/* How one output shows a refresh. The walk calls head, then for each part with a
 * row function: open (with its row count), row for each row, note for each row
 * (text: the reasons under a table), close; then tail. */
struct batch_emit {
	void (*head)(struct batch_ctx *c);
	void (*open)(struct batch_ctx *c, enum batch_part p, size_t n);
	void (*row[BP_COUNT])(struct batch_ctx *c, uint32_t i);
	void (*note[BP_COUNT])(struct batch_ctx *c, uint32_t i);
	void (*close)(struct batch_ctx *c, enum batch_part p);
	void (*tail)(struct batch_ctx *c);
};

extern const struct batch_emit batch_text, batch_json;

#endif
