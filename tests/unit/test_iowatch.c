/* SPDX-License-Identifier: ISC */
/*
 * test_iowatch.c - the check sockets' epoll set on a real libuv loop, with
 * socketpairs the test owns: readiness is dispatched to the right socket, a
 * change of direction takes effect, a socket removed by an earlier callback
 * of the same batch is never called, a hang-up is reported as IOW_ERR, and
 * setting no events removes the socket.
 */
#include <config.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "iowatch.h"

struct probe {
	struct iow_fd w;
	int calls, last;
	struct iowatch *io;
	struct probe *victim; /* removed and freed by this probe's callback */
};

static void on_event(struct iow_fd *f, int events)
{
	struct probe *p = f->data;

	p->calls++;
	p->last = events;
	if (p->victim != NULL) {
		iowatch_remove(p->io, &p->victim->w);
		p->victim->w.cb = NULL; /* a call after removal would crash here */
		p->victim = NULL;
	}
}

struct fixture {
	uv_loop_t loop;
	struct iowatch *io;
	int a[2], b[2];   /* two socketpairs: the test watches [0], writes on [1] */
	uv_timer_t guard; /* the watch is unref'd: this holds the loop while a turn waits */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[128];

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	fx->io = iowatch_new(&fx->loop, err, sizeof(err));
	assert_non_null(fx->io);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fx->a), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fx->b), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	iowatch_free(fx->io);
	uv_close((uv_handle_t *)&fx->guard, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT); /* the poll handle closes asynchronously */
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	for (int i = 0; i < 2; i++) {
		if (fx->a[i] >= 0)
			close(fx->a[i]);
		if (fx->b[i] >= 0)
			close(fx->b[i]);
	}
	free(fx);
	return 0;
}

static void on_guard(uv_timer_t *t)
{
	(void)t;
}

/* One loop turn that waits for I/O (at most 1 s). */
static void turn(struct fixture *fx)
{
	uv_timer_start(&fx->guard, on_guard, 1000, 0);
	uv_run(&fx->loop, UV_RUN_ONCE);
	uv_timer_stop(&fx->guard);
}

static void readable_goes_to_its_socket(void **state)
{
	struct fixture *fx = *state;
	struct probe pa = {0}, pb = {0};

	iowatch_fd_init(&pa.w, fx->a[0], on_event, &pa);
	iowatch_fd_init(&pb.w, fx->b[0], on_event, &pb);
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_IN), 0);
	assert_int_equal(iowatch_set(fx->io, &pb.w, IOW_IN), 0);
	assert_int_equal(write(fx->b[1], "x", 1), 1);
	turn(fx);
	assert_int_equal(pa.calls, 0);
	assert_int_equal(pb.calls, 1);
	assert_int_equal(pb.last, IOW_IN);
	iowatch_remove(fx->io, &pa.w);
	iowatch_remove(fx->io, &pb.w);
}

static void direction_change_takes_effect(void **state)
{
	struct fixture *fx = *state;
	struct probe pa = {0};

	iowatch_fd_init(&pa.w, fx->a[0], on_event, &pa);
	/* IN, then OUT: only the latest direction is watched (nothing to read yet) */
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_IN), 0);
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_OUT), 0);
	turn(fx);
	assert_int_equal(pa.calls, 1);
	assert_int_equal(pa.last, IOW_OUT);
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_IN), 0);
	assert_int_equal(write(fx->a[1], "x", 1), 1);
	turn(fx);
	assert_int_equal(pa.calls, 2);
	assert_int_equal(pa.last, IOW_IN);
	/* no events: out of the set, so nothing is reported any more */
	assert_int_equal(iowatch_set(fx->io, &pa.w, 0), 0);
	assert_int_equal(pa.w.events, 0);
	assert_int_equal(write(fx->a[1], "y", 1), 1);
	uv_run(&fx->loop, UV_RUN_NOWAIT);
	assert_int_equal(pa.calls, 2);
}

static void removed_in_same_batch_is_not_called(void **state)
{
	struct fixture *fx = *state;
	struct probe *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));

	/* both ready in one batch; whichever runs first removes the other */
	iowatch_fd_init(&pa->w, fx->a[0], on_event, pa);
	iowatch_fd_init(&pb->w, fx->b[0], on_event, pb);
	pa->io = pb->io = fx->io;
	pa->victim = pb;
	pb->victim = pa;
	assert_int_equal(iowatch_set(fx->io, &pa->w, IOW_IN), 0);
	assert_int_equal(iowatch_set(fx->io, &pb->w, IOW_IN), 0);
	assert_int_equal(write(fx->a[1], "x", 1), 1);
	assert_int_equal(write(fx->b[1], "x", 1), 1);
	turn(fx);
	assert_int_equal(pa->calls + pb->calls, 1);
	iowatch_remove(fx->io, &pa->w);
	iowatch_remove(fx->io, &pb->w);
	free(pa);
	free(pb);
}

static void hangup_is_an_error(void **state)
{
	struct fixture *fx = *state;
	struct probe pa = {0};

	iowatch_fd_init(&pa.w, fx->a[0], on_event, &pa);
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_IN), 0);
	close(fx->a[1]);
	fx->a[1] = -1;
	turn(fx);
	assert_int_equal(pa.calls, 1);
	assert_true(pa.last & IOW_ERR);
	iowatch_remove(fx->io, &pa.w);
}

static void bad_descriptor_is_refused(void **state)
{
	struct fixture *fx = *state;
	struct probe pa = {0};
	int fd = dup(fx->a[0]);

	close(fd);
	iowatch_fd_init(&pa.w, fd, on_event, &pa);
	assert_int_equal(iowatch_set(fx->io, &pa.w, IOW_IN), -EBADF);
	assert_int_equal(pa.w.events, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(readable_goes_to_its_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(direction_change_takes_effect, setup, teardown),
	    cmocka_unit_test_setup_teardown(removed_in_same_batch_is_not_called, setup, teardown),
	    cmocka_unit_test_setup_teardown(hangup_is_an_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_descriptor_is_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
