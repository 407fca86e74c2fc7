/* libFuzzer target: leaktop.conf, read as a file (conf_load) with the real key table,
 * and looked up key by key (conf_lookup_file) as the restart commands are. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "model/conf.h"
#include "program/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128];
	if (!path[0])
		snprintf(path, sizeof(path), "%s/leaktop.conf", fuzz_dir());
	fuzz_write_file(path, data, size);

	struct options o = {0};
	char *cause = NULL;
	int rc = conf_load(path, true, options_conf_keys, options_conf_nkeys, &o, &cause);
	if (rc && (!cause || !*cause))
		abort(); /* a refusal names the file and line */
	free(cause), cause = NULL;

	/* The same text through the string parser, as the tests give it. */
	char *text = fuzz_str(data, size);
	struct options o2 = {0};
	if (conf_parse(text, "fuzz.conf", options_conf_keys, options_conf_nkeys, &o2, &cause) != rc &&
	    !memchr(data, '\0', size))
		abort();
	free(cause), cause = NULL;
	free(text);

	/* A key looked up in the file reads what the whole file's parse read. Files with a
	 * NUL are left out: both refuse them. */
	char *value = NULL;
	if (conf_lookup_file(path, "alert.cmd", &value, &cause) == 0 && rc == 0 && value &&
	    !memchr(data, '\0', size) && strcmp(value, o.alert_cmd)) {
		fprintf(stderr, "conf_lookup_file: alert.cmd '%s', conf_load: '%s'\n", value, o.alert_cmd);
		abort();
	}
	free(value), value = NULL;
	free(cause), cause = NULL;
	conf_lookup_file(path, "restart.java", &value, &cause);
	free(value);
	free(cause);
	return 0;
}
