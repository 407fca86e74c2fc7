/* The flags a refresh of the live system stops on (stop.h). */
#include "config.h"

#include "sources/stop.h"

#include <stddef.h>

static volatile sig_atomic_t *stop_flags[4];

void stop_on(volatile sig_atomic_t *flag)
{
	for (size_t i = 0; i < sizeof(stop_flags) / sizeof(stop_flags[0]); i++)
		if (!stop_flags[i] || stop_flags[i] == flag) {
			stop_flags[i] = flag;
			return;
		}
}

bool stop_asked(void)
{
	for (size_t i = 0; i < sizeof(stop_flags) / sizeof(stop_flags[0]) && stop_flags[i]; i++)
		if (__atomic_load_n(stop_flags[i], __ATOMIC_RELAXED)) /* read on any thread */
			return true;
	return false;
}
