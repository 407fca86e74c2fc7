/* libFuzzer target: the digest of a thread dump (tdigest_parse, tdigest_lines,
 * tdigest_prepend), the process's own output that the dump viewer and both handover
 * reports read. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "program/tdigest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char lines[12][TDIGEST_LINE];
	struct tdigest d;
	size_t grouped = 0;

	if (tdigest_parse((const char *)data, size, &d))
		abort(); /* -ENOMEM only */
	/* Every thread read is in one group; the rest were counted. */
	for (size_t i = 0; i < d.ngroups; i++)
		grouped += d.groups[i].threads;
	if (grouped + d.skipped != d.threads)
		abort();
	size_t n = tdigest_lines(&d, size, lines, 12);
	if (!n || n > 12)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!memchr(lines[i], '\0', TDIGEST_LINE))
			abort();
	tdigest_release(&d);

	/* The viewer's text ends with the dump, byte for byte. */
	size_t len = 0;
	char *all = tdigest_prepend((const char *)data, size, &len);
	if (!all || len < size || memcmp(all + len - size, data, size) || all[len] != '\0')
		abort();
	free(all);
	return 0;
}
