/* scn_cloud_predict_url: the endpoint a predict URL stands for
 * (docs/PROTOCOL.md 9.6). The exchange itself is in
 * tests/integration/test_cloud.c. And what the submit calls put in the
 * spool, read back from it, with no cloud to send it to. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <scentience/cloud.h>
#include <scentience/error.h>
#include <scentience/frame.h>

#include "spool.h"

static const char *map(const char *url)
{
    static char out[512];

    assert_int_equal(scn_cloud_predict_url(url, out, sizeof(out)), 0);
    return out;
}

static void test_default_is_the_production_service(void **state)
{
    (void)state;
    assert_string_equal(map(NULL), "https://api.scentience.ai/v1/predict");
}

static void test_stream_urls_are_mapped(void **state)
{
    (void)state;
    assert_string_equal(map("ws://127.0.0.1:8080"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("ws://127.0.0.1:8080/v1/stream?stream=x"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("wss://api.scentience.ai/v1/stream"),
                        "https://api.scentience.ai/v1/predict");
    assert_string_equal(map("ws://[::1]:9/"), "http://[::1]:9/v1/predict");
}

static void test_base_urls_get_the_path(void **state)
{
    (void)state;
    assert_string_equal(map("http://127.0.0.1:8080"),
                        "http://127.0.0.1:8080/v1/predict");
    assert_string_equal(map("https://h.example/"),
                        "https://h.example/v1/predict");
    assert_string_equal(map("https://h.example/scentience/"),
                        "https://h.example/scentience/v1/predict");
}

static void test_explicit_endpoints_are_kept(void **state)
{
    (void)state;
    assert_string_equal(map("https://api.scentience.ai/v1/predict"),
                        "https://api.scentience.ai/v1/predict");
    assert_string_equal(map("http://h:1/custom/predict?x=1"),
                        "http://h:1/custom/predict?x=1");
}

static void test_refused(void **state)
{
    char out[64];

    (void)state;
    assert_int_equal(scn_cloud_predict_url("ftp://h/", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_string_equal(out, "");
    assert_int_equal(scn_cloud_predict_url("http://", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_int_equal(scn_cloud_predict_url("http://h:99999/", out, sizeof(out)),
                     SCN_ERR_URL);
    assert_int_equal(
        scn_cloud_predict_url("api.scentience.ai", out, sizeof(out)),
        SCN_ERR_URL);
    assert_int_equal(scn_cloud_predict_url("http://h/", out, 10),
                     SCN_ERR_INVALID_ARG);
    assert_string_equal(out, "");
    assert_int_equal(scn_cloud_predict_url("http://h/", NULL, 0),
                     SCN_ERR_INVALID_ARG);
}

/* A cloud on its own spool in a new folder under /tmp, with a link that
 * is never served (the loop does not run). */
static scn_cloud *spooled_cloud(scn_loop *loop, char *dir)
{
    scn_cloud_options o;
    scn_session_options so;
    scn_cloud *c = NULL;

    strcpy(dir, "/tmp/scn-test-cloud-XXXXXX");
    assert_non_null(mkdtemp(dir));
    scn_cloud_options_init(&o);
    scn_session_options_init(&so);
    o.session = &so;
    so.url = "ws://127.0.0.1:9/v1/stream";
    so.no_key = 1;
    o.spool_dir = dir;
    assert_int_equal(scn_cloud_new(loop, &o, &c), 0);
    return c;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        assert_int_equal(unlink(path), 0);
    }
    closedir(d);
    assert_int_equal(rmdir(dir), 0);
}

/*
 * scn_cloud_submit_frame_checked() spools the very records
 * scn_cloud_submit_frame() does for every state the latter accepts
 * (surrounding whitespace included), and takes the caller's word for the
 * state: one scn_cloud_submit_frame() refuses goes into the spool as
 * given. That is its contract (cloud.h), which spares a pass over the
 * state for every frame it is fused with.
 */
static void test_submit_frame_checked(void **state)
{
    static const char frame_json[] =
        "{\"UID\":\"SCN001\",\"TIMESTAMP\":\"2025-08-29T21:00:00.250Z\","
        "\"NH3\":270,\"VOC\":2917,\"_n\":{\"a\":[1,{\"b\":2}]}}";
    static const char *const states[] = {
        "{\"x\":120,\"y\":-30,\"bat\":83,\"agz\":-999.00}",
        " {\"mid\":\"say \\\"hi\\\"\",\"\u00e9\":-0}\n", "{}", NULL};
    static const char bad[] = "{\"gps\":[1,2]}";
    scn_loop_options lo;
    scn_loop *loop;
    scn_frame *frame;
    scn_cloud *a, *b;
    scn_spool *sa, *sb;
    scn_spool_cursor ca, cb;
    scn_spool_rec ra, rb;
    char da[64], db[64];
    uint64_t seq = 0;
    size_t n = 0;

    (void)state;
    scn_loop_options_init(&lo);
    assert_int_equal(scn_loop_new(&lo, &loop), 0);
    assert_int_equal(scn_frame_new(&frame), 0);
    assert_int_equal(scn_frame_parse(frame, frame_json, sizeof(frame_json) - 1),
                     0);
    a = spooled_cloud(loop, da);
    b = spooled_cloud(loop, db);
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        const char *s = states[i];
        assert_int_equal(scn_cloud_submit_frame(a, frame, s, 40 - (int)i, &seq),
                         0);
        assert_int_equal(seq, i + 1);
        assert_int_equal(scn_cloud_submit_frame_checked(
                             b, frame, s, s ? strlen(s) : 0, 40 - (int)i, &seq),
                         0);
        assert_int_equal(seq, i + 1);
    }
    assert_int_equal(scn_cloud_submit_frame(a, frame, bad, 1, &seq),
                     SCN_ERR_WRONG_TYPE);
    assert_int_equal(
        scn_cloud_submit_frame_checked(b, frame, bad, sizeof(bad) - 1, 1, &seq),
        0);
    assert_int_equal(scn_cloud_submit_frame_checked(b, frame, NULL, 3, 1, &seq),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn_cloud_submit_frame_checked(b, NULL, NULL, 0, 1, &seq),
                     SCN_ERR_INVALID_ARG);
    scn_cloud_free(a);
    scn_cloud_free(b);

    assert_int_equal(scn__spool_open(da, 1u << 20, &sa), 0);
    assert_int_equal(scn__spool_open(db, 1u << 20, &sb), 0);
    scn__spool_rewind(sa, &ca);
    scn__spool_rewind(sb, &cb);
    while (scn__spool_peek(sa, &ca, &ra) == 0) {
        char *copy = malloc(ra.len);
        assert_non_null(copy);
        memcpy(copy, ra.data, ra.len);
        assert_int_equal(scn__spool_peek(sb, &cb, &rb), 0);
        assert_int_equal(ra.seq, rb.seq);
        assert_int_equal(ra.len, rb.len);
        assert_memory_equal(copy, rb.data, ra.len);
        free(copy);
        scn__spool_next(&ca, &ra);
        scn__spool_next(&cb, &rb);
        n++;
    }
    assert_int_equal(n, sizeof(states) / sizeof(states[0]));
    /* The state the checking call refused, as given. */
    assert_int_equal(scn__spool_peek(sb, &cb, &rb), 0);
    {
        char text[256];
        assert_true(rb.len < sizeof(text));
        memcpy(text, rb.data, rb.len);
        text[rb.len] = '\0';
        assert_non_null(strstr(text, ",\"state\":{\"gps\":[1,2]},"));
    }
    scn__spool_next(&cb, &rb);
    assert_int_equal(scn__spool_peek(sb, &cb, &rb), SCN_ERR_NOT_FOUND);
    scn__spool_close(sa);
    scn__spool_close(sb);
    remove_dir(da);
    remove_dir(db);
    scn_frame_free(frame);
    scn_loop_free(loop);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_is_the_production_service),
        cmocka_unit_test(test_stream_urls_are_mapped),
        cmocka_unit_test(test_base_urls_get_the_path),
        cmocka_unit_test(test_explicit_endpoints_are_kept),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_submit_frame_checked),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
