/* lib/core/options.c: options structs grow without breaking callers. A
 * caller built against an older, smaller struct still works (the fields it
 * lacks take their defaults, and nothing past its struct is read or
 * written); a size the library does not know is refused with
 * SCN_ERR_OPTIONS_SIZE by every _new(). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <scentience/cloud.h>
#include <scentience/scentience.h>
#include <scentience/uav_channel.h>
#include <scentience/uav_state_server.h>
#include <scentience/uav_video_server.h>

#include "runner.h"

/* One options struct in two releases of its header: v1 appends a field
 * whose default is not zero. */
typedef struct opts_v0 {
    size_t struct_size;
    const char *name;
    uint32_t limit;
} opts_v0;

typedef struct opts_v1 {
    size_t struct_size;
    const char *name;
    uint32_t limit;
    uint64_t added;
} opts_v1;

static const opts_v1 v1_defaults = {sizeof(opts_v1), NULL, 64, 7};

/* A v1 library, written as every _options_init_sized() and _new() is. */
static void lib_init_sized(void *opts, size_t size)
{
    scn_options_give(opts, size, &v1_defaults, sizeof(v1_defaults));
}

static int lib_new(const void *opts, opts_v1 *used)
{
    *used = v1_defaults;
    return scn_options_take(used, sizeof(*used),
                            SCN_OPTIONS_END(opts_v1, limit), opts);
}

static void test_old_caller_gets_defaults_for_new_fields(void **state)
{
    /* Exactly the old struct's bytes on the heap: AddressSanitizer would
     * catch the library touching anything past them. */
    opts_v0 *old = malloc(sizeof(*old));
    opts_v1 used;

    (void)state;
    assert_non_null(old);
    lib_init_sized(old, sizeof(*old)); /* what v0's inline init passes */
    assert_int_equal(old->struct_size, sizeof(opts_v0));
    assert_null(old->name);
    assert_int_equal(old->limit, 64);
    old->name = "old";
    old->limit = 5;
    assert_int_equal(lib_new(old, &used), 0);
    assert_string_equal(used.name, "old");
    assert_int_equal(used.limit, 5);
    assert_int_equal(used.added, 7); /* not in the caller's struct */
    free(old);
}

static void test_init_writes_only_the_callers_size(void **state)
{
    union {
        opts_v1 align;
        unsigned char b[sizeof(opts_v1) + 32];
    } buf;

    (void)state;
    memset(buf.b, 0xa5, sizeof(buf.b));
    lib_init_sized(buf.b, sizeof(opts_v0));
    for (size_t i = sizeof(opts_v0); i < sizeof(buf.b); i++)
        assert_int_equal(buf.b[i], 0xa5);
    /* The real structs' inits too, given an old caller's smaller size. */
    memset(buf.b, 0xa5, sizeof(buf.b));
    scn_session_options_init_sized((scn_session_options *)buf.b, 24);
    for (size_t i = 24; i < sizeof(buf.b); i++)
        assert_int_equal(buf.b[i], 0xa5);
    memset(buf.b, 0xa5, sizeof(buf.b));
    scn_loop_options_init_sized((scn_loop_options *)buf.b, 1);
    for (size_t i = 0; i < sizeof(buf.b); i++)
        assert_int_equal(buf.b[i], 0xa5); /* cannot even hold a size */
}

static void test_new_caller_on_old_library_refused(void **state)
{
    opts_v1 caller;
    opts_v0 lib = {0, "untouched", 1};

    (void)state;
    lib_init_sized(&caller, sizeof(caller));
    /* A v0 library knows sizes up to sizeof(opts_v0) only: it cannot
     * honour fields it does not have. */
    assert_int_equal(scn_options_take(&lib, sizeof(lib),
                                      SCN_OPTIONS_END(opts_v0, limit), &caller),
                     SCN_ERR_OPTIONS_SIZE);
    assert_string_equal(lib.name, "untouched");
}

static void test_garbage_sizes_refused(void **state)
{
    static const size_t sizes[] = {0,
                                   1,
                                   sizeof(size_t),
                                   SCN_OPTIONS_END(opts_v1, limit) - 1,
                                   sizeof(opts_v1) + 1,
                                   SIZE_MAX,
                                   (size_t)0xa5a5a5a5u};
    opts_v1 caller, used;

    (void)state;
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        lib_init_sized(&caller, sizeof(caller));
        caller.struct_size = sizes[i];
        caller.limit = 1;
        assert_int_equal(lib_new(&caller, &used), SCN_ERR_OPTIONS_SIZE);
        assert_int_equal(used.limit, 64); /* defaults untouched */
    }
    assert_string_equal(scn_err_name(SCN_ERR_OPTIONS_SIZE), "OPTIONS_SIZE");
    assert_non_null(strstr(scn_strerror(SCN_ERR_OPTIONS_SIZE), "options"));
}

/* Not from _options_init(): the size field is whatever the stack held. */
#define GARBAGE ((size_t)3)

static void test_every_new_refuses_a_garbage_size(void **state)
{
    char dir[256], path[300];
    scn_loop *loop = NULL;
    void *h = NULL;

    (void)state;
    test_tmp_path(dir, sizeof(dir), "options-XXXXXX");
    assert_non_null(mkdtemp(dir));

    scn_loop_options lo;
    scn_loop_options_init(&lo);
    assert_int_equal(lo.struct_size, sizeof(lo));
    lo.struct_size = sizeof(lo) + 8;
    assert_int_equal(scn_loop_new(&lo, (scn_loop **)&h), SCN_ERR_OPTIONS_SIZE);
    assert_int_equal(scn_loop_new(NULL, &loop), 0);

    scn_session_options so;
    scn_session_options_init(&so);
    so.url = "ws://127.0.0.1:9/";
    so.no_key = 1;
    so.struct_size = GARBAGE;
    assert_int_equal(scn_session_new(loop, &so, (scn_session **)&h),
                     SCN_ERR_OPTIONS_SIZE);
    assert_null(h);

    scn_server_options sv;
    scn_server_options_init(&sv);
    sv.struct_size = GARBAGE;
    assert_int_equal(scn_server_new(loop, &sv, (scn_server **)&h),
                     SCN_ERR_OPTIONS_SIZE);

    scn_fanout_options fo;
    scn_fanout_options_init(&fo);
    fo.struct_size = GARBAGE;
    assert_int_equal(scn_fanout_new(loop, &fo, (scn_fanout **)&h),
                     SCN_ERR_OPTIONS_SIZE);

    scn_live_options li;
    scn_live_options_init(&li);
    li.struct_size = GARBAGE;
    assert_int_equal(scn_live_new(loop, &li, (scn_live **)&h),
                     SCN_ERR_OPTIONS_SIZE);

    scn_recorder_options ro;
    scn_recorder_options_init(&ro);
    ro.struct_size = GARBAGE;
    snprintf(path, sizeof(path), "%s/out.mcap", dir);
    assert_int_equal(scn_recorder_new(path, &ro, (scn_recorder **)&h),
                     SCN_ERR_OPTIONS_SIZE);
    assert_int_equal(access(path, F_OK), -1); /* refused before creating */

    /* The cloud's own struct, then the session options it points to. */
    scn_cloud_options co;
    scn_cloud_options_init(&co);
    co.spool_dir = dir;
    co.struct_size = GARBAGE;
    assert_int_equal(scn_cloud_new(loop, &co, (scn_cloud **)&h),
                     SCN_ERR_OPTIONS_SIZE);
    scn_cloud_options_init(&co);
    co.spool_dir = dir;
    co.session = &so;
    assert_int_equal(scn_cloud_new(loop, &co, (scn_cloud **)&h),
                     SCN_ERR_OPTIONS_SIZE);

    scn_cloud_predict_options po;
    scn_cloud_prediction pred;
    scn_cloud_predict_options_init(&po);
    assert_int_equal(po.timeout_ms, 10000);
    po.struct_size = GARBAGE;
    assert_int_equal(scn_cloud_predict(&po, "{}", 2, &pred),
                     SCN_ERR_OPTIONS_SIZE);

    scn_uav_channel_options ch;
    scn_uav_channel_options_init(&ch);
    ch.session = &so;
    assert_int_equal(scn_uav_channel_new(loop, &ch, (scn_uav_channel **)&h),
                     SCN_ERR_OPTIONS_SIZE);
    so.struct_size = sizeof(so);
    ch.struct_size = GARBAGE;
    assert_int_equal(scn_uav_channel_new(loop, &ch, (scn_uav_channel **)&h),
                     SCN_ERR_OPTIONS_SIZE);

    scn_uav_state_server_options ss;
    scn_uav_state_server_options_init(&ss);
    ss.allow_any_peer = 1;
    ss.struct_size = GARBAGE;
    assert_int_equal(
        scn_uav_state_server_new(loop, &ss, (scn_uav_state_server **)&h),
        SCN_ERR_OPTIONS_SIZE);

    scn_uav_video_server_options vs;
    scn_uav_video_server_options_init(&vs);
    vs.allow_any_peer = 1;
    vs.struct_size = GARBAGE;
    assert_int_equal(
        scn_uav_video_server_new(loop, &vs, (scn_uav_video_server **)&h),
        SCN_ERR_OPTIONS_SIZE);

    assert_null(h);
    scn_loop_free(loop);
    assert_int_equal(rmdir(dir), 0); /* nothing was written into it */
}

/* A real _new() given exactly the bytes of a struct that ends at its last
 * field (no trailing padding: what a caller of a smaller version owns, on
 * the heap so that AddressSanitizer catches a read past it). Where the ABI
 * pads scn_fanout_options (64-bit), that is 4 bytes short of sizeof. */
static void test_real_new_reads_only_the_callers_bytes(void **state)
{
    size_t end = SCN_OPTIONS_END(scn_fanout_options, idle_timeout_ms);
    size_t subscribers = 2, size;
    unsigned char *block = malloc(end); /* fields reached by offset: the
                                           whole type would not fit */
    uint32_t idle;
    scn_fanout *fo = NULL;
    scn_loop *loop = NULL;

    (void)state;
    assert_non_null(block);
    scn_fanout_options_init_sized((scn_fanout_options *)block, end);
    memcpy(&size, block + offsetof(scn_fanout_options, struct_size),
           sizeof(size));
    memcpy(&idle, block + offsetof(scn_fanout_options, idle_timeout_ms),
           sizeof(idle));
    assert_int_equal(size, end);
    assert_int_equal(idle, 10000);
    memcpy(block + offsetof(scn_fanout_options, max_subscribers), &subscribers,
           sizeof(subscribers));
    assert_int_equal(scn_loop_new(NULL, &loop), 0);
    assert_int_equal(scn_fanout_new(loop, (scn_fanout_options *)block, &fo), 0);
    assert_true(scn_fanout_port(fo) > 0);
    scn_fanout_free(fo);
    scn_loop_free(loop);
    free(block);
}

/* The nested session options are read through scn_session_options_copy:
 * a NULL pointer is every default, and the copy is of this library's size
 * whatever the caller's. */
static void test_session_copy(void **state)
{
    scn_session_options src, dst;

    (void)state;
    assert_int_equal(scn_session_options_copy(&dst, NULL), 0);
    assert_int_equal(dst.struct_size, sizeof(dst));
    assert_int_equal(dst.ping_interval_ms, 5000);
    scn_session_options_init(&src);
    src.url = "ws://x/";
    src.ping_interval_ms = 42;
    assert_int_equal(scn_session_options_copy(&dst, &src), 0);
    assert_string_equal(dst.url, "ws://x/");
    assert_int_equal(dst.ping_interval_ms, 42);
    src.struct_size = 0;
    assert_int_equal(scn_session_options_copy(&dst, &src),
                     SCN_ERR_OPTIONS_SIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_caller_gets_defaults_for_new_fields),
        cmocka_unit_test(test_init_writes_only_the_callers_size),
        cmocka_unit_test(test_new_caller_on_old_library_refused),
        cmocka_unit_test(test_garbage_sizes_refused),
        cmocka_unit_test(test_every_new_refuses_a_garbage_size),
        cmocka_unit_test(test_real_new_reads_only_the_callers_bytes),
        cmocka_unit_test(test_session_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
