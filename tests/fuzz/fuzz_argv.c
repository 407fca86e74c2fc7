/* libFuzzer target: the restart command's word splitter (action_split_argv) and the
 * line the confirmation prompt shows for the words (action_argv_format). */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "program/restart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *cmd = fuzz_str(data, size), *cause = NULL, **argv = NULL;

	if (action_split_argv(cmd, &argv, &cause) == 0) {
		if (!argv || !argv[0])
			abort(); /* 0 means at least one word */
		char shown[512], big[8192];
		action_argv_format(argv, shown, sizeof(shown));
		action_argv_format(argv, big, sizeof(big));
		if (strlen(shown) >= sizeof(shown))
			abort();
		/* What the prompt shows, split again, is the same words, when it was not
		 * escaped (control characters, a backslash) or cut. */
		bool plain = strlen(big) < 4000;
		for (size_t i = 0; argv[i] && plain; i++)
			for (const unsigned char *c = (const unsigned char *)argv[i]; *c; c++)
				if (*c < 0x20 || *c >= 0x7f || *c == '\\')
					plain = false;
		char **again = NULL;
		if (plain) {
			if (action_split_argv(big, &again, &cause))
				abort();
			size_t i = 0;
			for (; argv[i] && again[i]; i++)
				if (strcmp(argv[i], again[i]))
					break;
			if (argv[i] || again[i]) {
				fprintf(stderr, "word %zu: '%s' shown as '%s', read back as '%s'\n", i,
					argv[i] ? argv[i] : "(end)", big, again[i] ? again[i] : "(end)");
				abort();
			}
			action_argv_free(again);
		}
		action_argv_free(argv);
	} else if (!cause || !*cause) {
		abort();
	}
	free(cause);
	free(cmd);
	return 0;
}
