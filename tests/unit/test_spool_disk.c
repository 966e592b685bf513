/* The spool on a small disk (issue 9 B): a 256 KiB tmpfs mounted in a
 * private mount namespace of this process, so the mount never outlives
 * it, whatever happens to the test. Appends never stop on a full disk:
 * the oldest records go (reported, counted), the newest are kept, the ack
 * is still saved, nothing is left half written, room that returns is used
 * again, and a restart on the same directory goes on. */
#define _GNU_SOURCE /* unshare */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scentience/error.h>
#include "spool.h"

#define DISK_BYTES (256u * 1024)
#define REC_BYTES  300u

static char mnt[64];

/* Root: a mount namespace; otherwise a user namespace too (tmpfs may be
 * mounted there). Either way the mounts below are private to us. */
static int enter_namespace(void)
{
    char map[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    int fd, n;

    if (unshare(CLONE_NEWNS) == 0)
        return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
        return -1;
    if ((fd = open("/proc/self/setgroups", O_WRONLY)) >= 0) {
        n = (int)write(fd, "deny", 4);
        close(fd);
        (void)n;
    }
    n = snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
    if ((fd = open("/proc/self/uid_map", O_WRONLY)) < 0 ||
        write(fd, map, (size_t)n) != n)
        return -1;
    close(fd);
    n = snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
    if ((fd = open("/proc/self/gid_map", O_WRONLY)) < 0 ||
        write(fd, map, (size_t)n) != n)
        return -1;
    close(fd);
    return mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int setup(void **state)
{
    char opts[64];

    (void)state;
    snprintf(mnt, sizeof(mnt), "/tmp/scn-spool-disk-%d-XXXXXX", (int)getpid());
    if (mkdtemp(mnt) == NULL)
        return -1;
    snprintf(opts, sizeof(opts), "size=%u,mode=0700", DISK_BYTES);
    if (mount("scn-spool-test", mnt, "tmpfs", 0, opts) != 0) {
        fprintf(stderr, "mounting a tmpfs on %s: %s\n", mnt, strerror(errno));
        rmdir(mnt);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    umount2(mnt, MNT_DETACH);
    rmdir(mnt);
    return 0;
}

typedef struct drops {
    int n;
    scn_spool_drop d[4096];
    uint64_t total;
} drops;

static void on_drop(const scn_spool_drop *d, void *user)
{
    drops *ds = user;

    if (ds->n < 4096)
        ds->d[ds->n++] = *d;
    ds->total += d->count;
}

static void spool_path(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/spool/%s", mnt, name);
}

static scn_spool *open_small(drops *ds)
{
    scn_spool_opts o;
    scn_spool *sp = NULL;
    char dir[128];

    memset(&o, 0, sizeof(o));
    o.cap_bytes = 64u << 20; /* scn_cloud's default, 256 times the disk */
    o.on_drop = on_drop;
    o.user = ds;
    spool_path(dir, sizeof(dir), "");
    assert_int_equal(scn__spool_open_opts(dir, &o, &sp), 0);
    return sp;
}

/* Appends n records; each must succeed. Syncs every 100, as scn_cloud's
 * flush does. Returns the last seq. */
static uint64_t append_ok(scn_spool *sp, int n)
{
    char buf[REC_BYTES];
    uint64_t seq = 0;

    for (int i = 0; i < n; i++) {
        memset(buf, 'r', sizeof(buf));
        snprintf(buf, sizeof(buf), "rec %d", i);
        assert_int_equal(scn__spool_append(sp, buf, sizeof(buf), &seq, NULL),
                         0);
        if (i % 100 == 99)
            assert_int_equal(scn__spool_sync(sp), 0);
    }
    return seq;
}

/* The seqs held: contiguous, ending at last. Returns the first. */
static uint64_t held_newest(scn_spool *sp, uint64_t last)
{
    scn_spool_cursor cur;
    scn_spool_rec rec;
    uint64_t first = 0, prev = 0;
    int rc;

    scn__spool_rewind(sp, &cur);
    while ((rc = scn__spool_peek(sp, &cur, &rec)) == 0) {
        assert_int_equal(rec.len, REC_BYTES);
        if (first == 0)
            first = rec.seq;
        else
            assert_int_equal(rec.seq, prev + 1);
        prev = rec.seq;
        scn__spool_next(&cur, &rec);
    }
    assert_int_equal(rc, SCN_ERR_NOT_FOUND);
    assert_int_equal(prev, last);
    return first;
}

/* The drops reported are exactly 1 .. first_held - 1, in order. */
static void drops_are_oldest(const drops *ds, uint64_t first_held)
{
    uint64_t next = 1;

    assert_true(ds->n > 0);
    for (int i = 0; i < ds->n; i++) {
        assert_int_equal(ds->d[i].first_seq, next);
        assert_int_equal(ds->d[i].count,
                         ds->d[i].last_seq - ds->d[i].first_seq + 1);
        next = ds->d[i].last_seq + 1;
    }
    assert_int_equal(next, first_held);
    assert_int_equal(ds->total, first_held - 1);
}

/* Fills what is free with a file; returns its size. */
static uint64_t fill_disk(void)
{
    char path[128], block[4096];
    uint64_t total = 0;
    ssize_t w;
    int fd;

    snprintf(path, sizeof(path), "%s/filler", mnt);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    memset(block, 'f', sizeof(block));
    while ((w = write(fd, block, sizeof(block))) > 0)
        total += (uint64_t)w;
    assert_int_equal(errno, ENOSPC);
    close(fd);
    return total;
}

static void unfill_disk(void)
{
    char path[128];

    snprintf(path, sizeof(path), "%s/filler", mnt);
    assert_int_equal(unlink(path), 0);
}

static void no_meta_tmp(void)
{
    char path[128];

    spool_path(path, sizeof(path), "meta.tmp");
    assert_int_equal(access(path, F_OK), -1);
}

/* Four times the disk through a spool whose cap is 256 times it. */
static void test_small_disk_keeps_the_newest(void **state)
{
    static drops ds;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t last, first;

    (void)state;
    memset(&ds, 0, sizeof(ds));
    sp = open_small(&ds);
    last = append_ok(sp, 3000);
    assert_int_equal(last, 3000);
    scn__spool_get_stats(sp, &st);
    assert_true(st.budget < DISK_BYTES);
    assert_true(st.bytes <= st.budget);
    assert_int_equal(st.dropped_full, 0);
    assert_int_equal(st.refused_full, 0);
    assert_true(st.dropped_disk > 0);
    assert_int_equal(st.records + st.dropped_disk, 3000);
    first = held_newest(sp, last);
    drops_are_oldest(&ds, first);
    for (int i = 0; i < ds.n; i++)
        assert_int_equal(ds.d[i].reason, SCN_SPOOL_DROP_DISK);
    /* The ack still works: saved, and the whole spool reclaimed. */
    assert_int_equal(scn__spool_ack(sp, last), 0);
    assert_int_equal(scn__spool_sync(sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_true(st.ack_saved);
    assert_int_equal(st.bytes, 0);
    no_meta_tmp();
    scn__spool_close(sp);
}

/* Someone else fills the disk: the spool makes room from its oldest,
 * keeps taking records, and grows back when the room returns; then a
 * restart on the same directory goes on. */
static void test_disk_filled_by_another(void **state)
{
    static drops ds;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t last, first, squeezed, held_squeezed;

    (void)state;
    memset(&ds, 0, sizeof(ds));
    sp = open_small(&ds);
    append_ok(sp, 500);
    assert_true(fill_disk() > 0);
    last = append_ok(sp, 500);
    scn__spool_get_stats(sp, &st);
    assert_true(st.disk_full > 0);
    assert_int_equal(st.refused_full, 0);
    squeezed = st.budget;
    held_squeezed = st.records;
    first = held_newest(sp, last);
    drops_are_oldest(&ds, first);
    no_meta_tmp();

    unfill_disk();
    last = append_ok(sp, 1500);
    scn__spool_get_stats(sp, &st);
    assert_true(st.budget > squeezed);
    assert_true(st.records > held_squeezed);
    first = held_newest(sp, last);
    drops_are_oldest(&ds, first);
    scn__spool_close(sp);

    /* Restart: the same records, the next seq, no reuse. */
    sp = open_small(&ds);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.next_seq, last + 1);
    assert_int_equal(held_newest(sp, last), first);
    assert_int_equal(append_ok(sp, 10), last + 10);
    scn__spool_close(sp);
}

/* Nothing held and no room at all: the record is refused (counted), its
 * seq not used; when room returns, appends go on. */
static void test_no_room_at_all(void **state)
{
    static drops ds;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t last, seq = 0;
    char rec[REC_BYTES] = "x";

    (void)state;
    memset(&ds, 0, sizeof(ds));
    sp = open_small(&ds);
    last = append_ok(sp, 10);
    assert_int_equal(scn__spool_ack(sp, last), 0);
    assert_int_equal(scn__spool_sync(sp), 0);
    fill_disk();
    assert_int_equal(scn__spool_append(sp, rec, sizeof(rec), &seq, NULL),
                     SCN_ERR_SPOOL_FULL);
    assert_int_equal(seq, 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.refused_full, 1);
    assert_int_equal(st.next_seq, last + 1);
    assert_int_equal(ds.total, 0);
    no_meta_tmp();
    unfill_disk();
    assert_int_equal(scn__spool_append(sp, rec, sizeof(rec), &seq, NULL), 0);
    assert_int_equal(seq, last + 1);
    scn__spool_close(sp);
}

/* The disk is full when the ack comes: reclaiming the acknowledged
 * segment makes the room to save it; no empty meta.tmp is left. */
static void test_ack_saved_on_full_disk(void **state)
{
    static drops ds;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t last;

    (void)state;
    memset(&ds, 0, sizeof(ds));
    sp = open_small(&ds);
    last = append_ok(sp, 40);
    fill_disk();
    assert_int_equal(scn__spool_ack(sp, last), 0);
    assert_int_equal(scn__spool_sync(sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_true(st.ack_saved);
    no_meta_tmp();
    scn__spool_close(sp);
    sp = open_small(&ds);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.acked, last);
    assert_int_equal(st.records, 0);
    scn__spool_close(sp);
    unfill_disk();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_small_disk_keeps_the_newest, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_disk_filled_by_another, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_room_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ack_saved_on_full_disk, setup,
                                        teardown),
    };

    if (enter_namespace() != 0) {
        fprintf(stderr,
                "test_spool_disk: cannot make a private mount namespace "
                "(needs root or user namespaces): %s\n",
                strerror(errno));
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
