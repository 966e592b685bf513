/*
 * scn_live's publish calls (lib/live/live.c) on a listener bound to an
 * ephemeral loopback port: the checking call refuses text that is not JSON,
 * the checked one takes the caller's word, and both refuse the same
 * arguments and count what they publish alike.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <scentience/error.h>
#include <scentience/frame.h>
#include <scentience/live.h>

typedef struct fixture {
    scn_loop *loop;
    scn_live *live;
    uint32_t chan;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    scn_loop_options lo;
    scn_live_options o;

    *state = f;
    if (!f)
        return -1;
    scn_loop_options_init(&lo);
    if (scn_loop_new(&lo, &f->loop) != 0)
        return -1;
    scn_live_options_init(&o);
    o.bind_address = "127.0.0.1";
    o.port = 0;
    if (scn_live_new(f->loop, &o, &f->live) != 0)
        return -1;
    return scn_live_channel_add(f->live, "/uav/state", "scentience.UavState",
                                "{\"type\":\"object\"}", &f->chan);
}

static int teardown(void **state)
{
    fixture *f = *state;

    scn_live_free(f->live);
    scn_loop_free(f->loop);
    free(f);
    return 0;
}

typedef int (*publish_fn)(scn_live *, uint32_t, const char *, uint64_t,
                          const char *, size_t);

/* The arguments both calls refuse before looking at the text. */
static void refusals(fixture *f, publish_fn publish)
{
    static const char j[] = "{\"x\":1}";
    const size_t n = sizeof(j) - 1;

    assert_int_equal(publish(NULL, f->chan, "uav.state", 1, j, n),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(publish(f->live, f->chan, "uav.state", 1, NULL, 0),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(publish(f->live, 0, NULL, 1, j, n), SCN_ERR_INVALID_ARG);
    assert_int_equal(publish(f->live, 0, "bad stream", 1, j, n),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(publish(f->live, f->chan + 7, NULL, 1, j, n),
                     SCN_ERR_NOT_FOUND);
    /* Accepted, with nobody subscribed. */
    assert_int_equal(publish(f->live, f->chan, "uav.state", 1, j, n), 0);
    assert_int_equal(publish(f->live, 0, "uav.state", 1, j, n), 0);
    assert_int_equal(publish(f->live, f->chan, NULL, 1, j, n), 0);
}

static void test_same_refusals(void **state)
{
    fixture *f = *state;
    scn_live_stats st;

    refusals(f, scn_live_publish);
    refusals(f, scn_live_publish_checked);
    scn_live_get_stats(f->live, &st);
    assert_int_equal(st.published, 6);
    assert_int_equal(st.live.published_uav_state, 4);
}

/* The checked call takes the caller's word: text that is not JSON, which
 * scn_live_publish() refuses, is published as given. That is its
 * contract (scn_live_publish_checked() in live.h) and what spares the
 * companion a pass over every state it has already written. */
static void test_checked_takes_the_callers_word(void **state)
{
    static const char not_json[] = "{\"x\":";
    fixture *f = *state;
    scn_live_stats st;

    assert_int_equal(scn_live_publish(f->live, f->chan, "uav.state", 1,
                                      not_json, sizeof(not_json) - 1),
                     SCN_ERR_MALFORMED);
    scn_live_get_stats(f->live, &st);
    assert_int_equal(st.published, 0);
    assert_int_equal(scn_live_publish_checked(f->live, f->chan, "uav.state", 1,
                                              not_json, sizeof(not_json) - 1),
                     0);
    scn_live_get_stats(f->live, &st);
    assert_int_equal(st.published, 1);
    assert_int_equal(st.live.published_uav_state, 1);
}

/* A listener whose queues hold the envelope of exactly frame's text on
 * "olfaction" ({"type":"message","stream":"olfaction","data":...}) and
 * no byte more: publish_frame() takes it there, and refuses it on a
 * longer stream name as too big, nobody watching either. *text gets the
 * frame's text, *n its length. */
static void check_frame_at_limit(fixture *f, scn_frame *frame, char *text,
                                 size_t cap, size_t *n)
{
    scn_live_options o;
    scn_live *small = NULL;

    assert_int_equal(scn_frame_to_json(frame, text, cap, n), 0);
    scn_live_options_init(&o);
    o.bind_address = "127.0.0.1";
    o.queue_bytes =
        strlen("{\"type\":\"message\",\"stream\":\"olfaction\",\"data\":}") +
        *n;
    assert_int_equal(scn_live_new(f->loop, &o, &small), 0);
    assert_int_equal(scn_live_publish_frame(small, 0, "olfaction", 1, frame),
                     0);
    assert_int_equal(scn_live_publish_frame(small, 0, "olfaction2", 1, frame),
                     SCN_ERR_MESSAGE_TOO_BIG);
    assert_int_equal(
        scn_live_publish_checked(small, 0, "olfaction", 1, text, *n + 1),
        SCN_ERR_MESSAGE_TOO_BIG);
    scn_live_free(small);
}

/* A frame nobody watches is not written (live.c), yet counted, and one
 * too big for any subscriber's queue is refused as before, whether or
 * not anyone watches: the bound scn__frame_write_max() decides without
 * writing, and, above the text's length (an escaped name), writing
 * decides near the limit. */
static void test_frame_nobody_watches(void **state)
{
    static const char plain[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.250Z\","
        "\"NH3\":270}";
    static const char escaped[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.250Z\","
        "\"q\\\"\\u0001\":1}";
    fixture *f = *state;
    scn_live_stats st;
    scn_frame *frame;
    size_t n;
    char text[256];

    assert_int_equal(scn_frame_new(&frame), 0);
    assert_int_equal(scn_frame_parse(frame, plain, sizeof(plain) - 1), 0);
    assert_int_equal(
        scn_live_publish_frame(f->live, f->chan, "olfaction", 1, frame), 0);
    scn_live_get_stats(f->live, &st);
    assert_int_equal(st.published, 1);
    assert_int_equal(st.live.published_olfaction, 1);
    check_frame_at_limit(f, frame, text, sizeof(text), &n);
    assert_int_equal(scn_frame_parse(frame, escaped, sizeof(escaped) - 1), 0);
    check_frame_at_limit(f, frame, text, sizeof(text), &n);
    scn_frame_free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checked_takes_the_callers_word,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_frame_nobody_watches, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
