/* The /metrics responder: which requests get metrics, and where it listens. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/serve.h"

START_TEST(test_route)
{
	ck_assert_int_eq(serve_route("GET /metrics HTTP/1.1"), 200);
	ck_assert_int_eq(serve_route("GET /metrics?x=1 HTTP/1.0"), 200);
	ck_assert_int_eq(serve_route("HEAD /metrics HTTP/1.1"), 200);
	ck_assert_int_eq(serve_route("GET / HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("GET /metricsx HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("GET /etc/passwd HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("POST /metrics HTTP/1.1"), 405);
	ck_assert_int_eq(serve_route("GET /metrics"), 400);
	ck_assert_int_eq(serve_route("\x16\x03\x01"), 400);
	ck_assert_int_eq(serve_route(""), 400);
}
END_TEST

START_TEST(test_listen)
{
	char bound[80], *cause = NULL;
	int fd = serve_listen("0", bound, sizeof(bound), &cause);
	ck_assert_msg(fd >= 0, "%s", cause ? cause : "");
	/* Loopback unless told otherwise. */
	ck_assert_ptr_nonnull(strstr(bound, "127.0.0.1:"));
	ck_assert_str_ne(bound, "127.0.0.1:0");
	close(fd);
	fd = serve_listen("[::1]:0", bound, sizeof(bound), &cause);
	if (fd >= 0) { /* where IPv6 exists */
		ck_assert_ptr_nonnull(strstr(bound, "[::1]:"));
		close(fd);
	}
	free(cause), cause = NULL;
	ck_assert_int_eq(serve_listen("127.0.0.1:http", bound, sizeof(bound), &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "port"));
	free(cause), cause = NULL;
	ck_assert_int_eq(serve_listen("localhost:9000", bound, sizeof(bound), &cause), -EINVAL);
	free(cause);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("serve");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_route);
	tcase_add_test(tc, test_listen);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
