/* libFuzzer target: theme files (theme_parse), over the default theme. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "themes/theme.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size), *cause = NULL;
	struct theme t;

	theme_default(&t);
	int rc = theme_parse(&t, text, "fuzz.theme", &cause);
	if (rc && (!cause || !*cause))
		abort(); /* a refusal says which line is wrong */
	for (unsigned r = 0; r < TH_COUNT; r++) {
		const struct theme_style *st = &t.roles[r];
		if (st->fg < THEME_DEFAULT_COLOR || st->fg > 255 || st->bg < THEME_DEFAULT_COLOR || st->bg > 255)
			abort(); /* draw.c hands these to init_pair */
	}
	if (memchr(t.name, '\0', sizeof(t.name)) == NULL)
		abort();
	theme_has_colors(&t);
	theme_strip_colors(&t);
	free(cause);
	free(text);
	return 0;
}
