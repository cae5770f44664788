/* Tests for src/core/panic.c: fatal errors abort with their message; the
** signal-safe writers format numbers correctly. */
#include "testhelper.h"
#include "internal/panic.h"

#include <signal.h>
#include <string.h>

static void do_panic(void *arg)
{
	_gr_panic("arena double free: %s", (const char *)arg);
}

static void test_panic_aborts_with_message(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(do_panic, (void *)"0x1234", &c) == 0);
	CHECK(c.signaled && c.signo == SIGABRT);
	CHECKF(strstr(c.err, "gort: fatal: arena double free: 0x1234\n") != NULL, "stderr: %s", c.err);
}

static void do_sig_writes(void *arg)
{
	(void)arg;
	_gr_sig_puts("[");
	_gr_sig_puthex(0x7f00dead10);
	_gr_sig_puts(" ");
	_gr_sig_puthex(0);
	_gr_sig_puts(" ");
	_gr_sig_putdec(18446744073709551615ull);
	_gr_sig_puts(" ");
	_gr_sig_putdec(0);
	_gr_sig_puts("]");
}

static void test_sig_writers(void)
{
	gort_test_child c;
	CHECK(gort_test_fork(do_sig_writes, NULL, &c) == 0);
	CHECK(!c.signaled && c.exit_code == 0);
	CHECKF(strcmp(c.err, "[0x7f00dead10 0x0 18446744073709551615 0]") == 0, "got %s", c.err);
}

int main(void)
{
	RUN(test_panic_aborts_with_message);
	RUN(test_sig_writers);
	return gort_test_summary();
}
