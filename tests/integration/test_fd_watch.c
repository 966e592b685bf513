/*
 * lib/lws/fd_watch.c on a real loop: a socket another library owns (one
 * end of a socketpair, standing in for libmosquitto's) watched for
 * writing. The owner writes a part of what it holds in its writable
 * callback and asks for write interest again from inside it, as
 * mqtt_mosq.c's settle() does; while the peer drains, the callback must
 * come again, with no read event on that socket to wake it. lws 4.1.6's
 * raw file dropped such a request (the rest waited for a read or a timer).
 * Bounded in loop turns, not in time.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <scentience/loop.h>

#include "io.h"
#include "runner.h"

#define PART    16384      /* written per writable callback at most */
#define TOTAL   (8 * PART) /* what the owner holds after the prefill */
#define TURNS   100        /* loop turns the test allows for TOTAL */
#define TURN_MS 100        /* the longest one turn may wait (scaled) */

typedef struct owner {
    scn_fd_watch *w;
    int fd;
    size_t sent;
    int writable, readable, hangups;
    /* test_free_inside_after_asking: free the watch right after asking. */
    bool free_after_ask;
} owner;

typedef struct fixture {
    scn_loop *loop;
    int sv[2];
    owner o;
    size_t prefill, drained;
} fixture;

static void on_ready(void *user, bool readable, bool writable, bool hangup)
{
    owner *o = user;
    char buf[PART];
    size_t n = TOTAL - o->sent < PART ? TOTAL - o->sent : PART;
    ssize_t k;

    o->readable += readable;
    o->hangups += hangup;
    if (!writable)
        return;
    o->writable++;
    memset(buf, 'x', sizeof(buf));
    k = send(o->fd, buf, n, MSG_NOSIGNAL);
    if (k > 0)
        o->sent += (size_t)k;
    if (o->sent < TOTAL)
        scn__fd_watch_want_write(o->w);
    if (o->free_after_ask) {
        scn__fd_watch_free(o->w);
        o->w = NULL;
    }
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    char buf[PART];
    ssize_t n;

    *state = f;
    if (!f)
        return -1;
    scn_loop_options_init(&lo);
    if (scn_loop_new(&lo, &f->loop) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
                   f->sv) < 0)
        return -1;
    /* Full: the first write interest waits for the peer to drain. */
    memset(buf, 'p', sizeof(buf));
    while ((n = send(f->sv[0], buf, sizeof(buf), MSG_NOSIGNAL)) > 0)
        f->prefill += (size_t)n;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return -1;
    f->o.fd = f->sv[0];
    return scn__fd_watch_new(f->loop, f->sv[0], on_ready, &f->o, &f->o.w) == 0
               ? 0
               : -1;
}

static int teardown(void **state)
{
    fixture *f = *state;

    scn__fd_watch_free(f->o.w);
    close(f->sv[0]);
    close(f->sv[1]);
    scn_loop_free(f->loop);
    free(f);
    return 0;
}

/* The peer takes everything the socket holds. */
static void drain(fixture *f)
{
    char buf[65536];
    ssize_t n;

    while ((n = recv(f->sv[1], buf, sizeof(buf), 0)) > 0)
        f->drained += (size_t)n;
}

/* Turns of the loop, the peer draining before each, until the owner has
 * written everything or TURNS have passed. */
static void run(fixture *f)
{
    for (int turn = 0; turn < TURNS && f->o.sent < TOTAL; turn++) {
        drain(f);
        assert_int_equal(scn_loop_run_once(f->loop, scaled_ms(TURN_MS)), 0);
    }
    drain(f);
}

static void test_write_asked_inside_writable_callback(void **state)
{
    fixture *f = *state;

    /* Asked outside a callback, on a full socket: the peer drains first. */
    scn__fd_watch_want_write(f->o.w);
    run(f);
    assert_int_equal(f->o.sent, TOTAL);
    /* Every part had its own callback, each one asked for inside the
     * previous; nothing but those callbacks moved the bytes. */
    assert_true(f->o.writable >= TOTAL / PART);
    assert_int_equal(f->o.readable, 0);
    assert_int_equal(f->o.hangups, 0);
    assert_int_equal(f->drained, f->prefill + TOTAL);
}

/* A request made inside the callback, then the watch freed in it: the
 * deferred request must not outlive the watch (ASan). */
static void test_free_inside_after_asking(void **state)
{
    fixture *f = *state;

    f->o.free_after_ask = true;
    scn__fd_watch_want_write(f->o.w);
    for (int turn = 0; turn < 5; turn++) {
        drain(f);
        assert_int_equal(scn_loop_run_once(f->loop, scaled_ms(20)), 0);
    }
    assert_int_equal(f->o.writable, 1);
    assert_null(f->o.w);
    assert_int_equal(f->o.sent, PART);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_write_asked_inside_writable_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_inside_after_asking, setup,
                                        teardown),
    };
    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
