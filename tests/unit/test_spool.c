/* The store-and-forward spool: order, acks, the size cap, reopening, torn
 * and corrupt records, a real kill -9 in the middle of appends, and what a
 * hostile or broken directory holds (names, seqs, acks, symlinks, a
 * listing that fails). The full-disk cases are in test_spool_disk.c. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runner.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

#include <scentience/error.h>
#include "spool.h"

/* Fault injection for the directory listing: while fail_readdir is set,
 * readdir() fails as a 32-bit build without large-file support does on a
 * big inode number (EOVERFLOW). Otherwise it is libc's. */
static int fail_readdir;

/* The symbol this definition really has, and so the one to forward to:
 * with _FILE_OFFSET_BITS=64 on a 32-bit system (armhf), <dirent.h> renames
 * readdir to readdir64, whose struct dirent is the 64-bit one; libc's
 * plain readdir would hand back the 32-bit layout. */
#if defined(_FILE_OFFSET_BITS) && _FILE_OFFSET_BITS == 64 &&                   \
    __SIZEOF_LONG__ == 4
#define READDIR_SYMBOL "readdir64"
#else
#define READDIR_SYMBOL "readdir"
#endif

struct dirent *readdir(DIR *d)
{
    static struct dirent *(*real)(DIR *);

    if (fail_readdir) {
        errno = EOVERFLOW;
        return NULL;
    }
    if (real == NULL)
        *(void **)&real = dlsym(RTLD_NEXT, READDIR_SYMBOL);
    return real(d);
}

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));

    if (f == NULL)
        return -1;
    test_tmp_path(f->dir, sizeof(f->dir), "scn-spool-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* The spool directory holds only plain files: remove them, then it. */
static int teardown(void **state)
{
    fixture *f = *state;
    DIR *d = opendir(f->dir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", f->dir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void append_n(scn_spool *sp, int first, int n, size_t len)
{
    char buf[256];

    assert_true(len < sizeof(buf));
    for (int i = first; i < first + n; i++) {
        uint64_t seq = 0;

        memset(buf, 'a' + i % 26, len);
        snprintf(buf, len, "rec %d", i);
        assert_int_equal(scn__spool_append(sp, buf, len, &seq, NULL), 0);
    }
}

/* Reads every unacked record from the oldest; returns how many. seqs
 * receives them. Checks they increase and each payload names its number
 * (the records appended by append_n with first 1 have seq == number). */
static size_t read_all(scn_spool *sp, uint64_t *seqs, size_t max)
{
    scn_spool_cursor cur;
    scn_spool_rec rec;
    size_t n = 0;
    uint64_t prev = 0;
    int rc;

    scn__spool_rewind(sp, &cur);
    while ((rc = scn__spool_peek(sp, &cur, &rec)) == 0) {
        assert_true(rec.seq > prev);
        prev = rec.seq;
        if (n < max)
            seqs[n] = rec.seq;
        n++;
        scn__spool_next(&cur, &rec);
    }
    assert_int_equal(rc, SCN_ERR_NOT_FOUND);
    return n;
}

static char *seg_path(const fixture *f, uint64_t name, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/seg-%020llu.log", f->dir, (unsigned long long)name);
    return buf;
}

static void test_args(void **state)
{
    fixture *f = *state;
    scn_spool *sp = (scn_spool *)1;
    scn_spool_opts o;

    assert_int_equal(scn__spool_open(NULL, 4096, &sp), SCN_ERR_INVALID_ARG);
    assert_null(sp);
    assert_int_equal(scn__spool_open(f->dir, 100, &sp), SCN_ERR_INVALID_ARG);
    memset(&o, 0, sizeof(o));
    o.cap_bytes = 4096;
    o.segment_bytes = 4096;
    assert_int_equal(scn__spool_open_opts(f->dir, &o, &sp),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    /* Segments are 512 bytes: a 497-byte payload makes 513. */
    {
        static char big[497];

        assert_int_equal(scn__spool_append(sp, big, sizeof(big), NULL, NULL),
                         SCN_ERR_MESSAGE_TOO_BIG);
        assert_int_equal(scn__spool_append(sp, big, 496, NULL, NULL), 0);
    }
    assert_int_equal(scn__spool_append(sp, NULL, 0, NULL, NULL), 0);
    assert_int_equal(scn__spool_append(sp, NULL, 3, NULL, NULL),
                     SCN_ERR_INVALID_ARG);
    assert_int_equal(strlen(scn__spool_stream_id(sp)), 32);
    scn__spool_close(sp);
    scn__spool_close(NULL);
}

static void test_append_ack_resend(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    scn_spool_stats st;
    uint64_t seqs[64], seq;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 10, 40);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.records, 10);
    assert_int_equal(st.next_seq, 11);
    assert_int_equal(st.acked, 0);

    /* Send three, the link drops before any ack: resend from 1. */
    scn__spool_rewind(sp, &cur);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
        assert_int_equal(rec.seq, i);
        assert_int_equal(rec.len, 40);
        scn__spool_next(&cur, &rec);
    }
    scn__spool_rewind(sp, &cur);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    assert_int_equal(rec.seq, 1);
    assert_string_equal((const char *)rec.data, "rec 1");

    /* Cumulative ack of 4; re-acks below it are no-ops. */
    assert_int_equal(scn__spool_ack(sp, 4), 0);
    assert_int_equal(scn__spool_ack(sp, 2), 0);
    assert_int_equal(scn__spool_ack(sp, 4), 0);
    assert_int_equal(scn__spool_ack(sp, 11), SCN_ERR_OUT_OF_RANGE);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.acked, 4);
    assert_int_equal(st.records, 6);
    /* A cursor left behind the ack jumps to the first unacked record. */
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    assert_int_equal(rec.seq, 5);
    assert_int_equal(read_all(sp, seqs, 64), 6);
    assert_int_equal(seqs[0], 5);
    assert_int_equal(seqs[5], 10);

    assert_int_equal(scn__spool_ack(sp, 10), 0);
    scn__spool_rewind(sp, &cur);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), SCN_ERR_NOT_FOUND);
    assert_int_equal(scn__spool_append(sp, "x", 1, &seq, NULL), 0);
    assert_int_equal(seq, 11);
    scn__spool_close(sp);
}

static void test_ack_deletes_segments(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    char path[256];

    /* cap 4096 -> segments of 512 bytes; 56-byte records, 9 each. */
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 30, 40);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.segments, 4);
    assert_int_equal(st.bytes, 30 * 56);
    assert_int_equal(access(seg_path(f, 1, path, sizeof(path)), F_OK), 0);
    /* 9 does not cover segment 10..18 entirely: only the first goes. */
    assert_int_equal(scn__spool_ack(sp, 9), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.segments, 3);
    assert_int_equal(st.records, 21);
    assert_int_equal(access(seg_path(f, 1, path, sizeof(path)), F_OK), -1);
    assert_int_equal(scn__spool_ack(sp, 17), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.segments, 3);
    assert_int_equal(st.records, 13);
    /* Everything acked: the active segment stays for further appends. */
    assert_int_equal(scn__spool_ack(sp, 30), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.records, 0);
    scn__spool_close(sp);
}

static void test_cap_drops_oldest(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t seqs[256], dropped = 0, total_dropped = 0, seq;
    size_t n;

    assert_int_equal(scn__spool_open(f->dir, 1024, &sp), 0);
    /* 128-byte segments hold two 56-byte records; 8 segments fit. */
    for (int i = 1; i <= 100; i++) {
        char buf[40] = {0};

        dropped = 0;
        snprintf(buf, sizeof(buf), "rec %d", i);
        assert_int_equal(
            scn__spool_append(sp, buf, sizeof(buf), &seq, &dropped), 0);
        assert_int_equal(seq, i);
        total_dropped += dropped;
        scn__spool_get_stats(sp, &st);
        assert_true(st.bytes <= 1024);
    }
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_full, total_dropped);
    assert_int_equal(st.records + st.dropped_full, 100);
    assert_true(st.records >= 14); /* at least 7 full segments kept */
    n = read_all(sp, seqs, 256);
    assert_int_equal(n, st.records);
    assert_int_equal(seqs[n - 1], 100);
    assert_int_equal(seqs[0], 100 - n + 1); /* the newest are kept */

    /* Acked records dropped by the cap are not counted as lost. */
    assert_int_equal(scn__spool_ack(sp, 100), 0);
    append_n(sp, 101, 40, 40);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.dropped_full, total_dropped + 40 - st.records);
    scn__spool_close(sp);
}

static void test_reopen_resumes(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    char id[33];
    uint64_t seqs[64], seq;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    strcpy(id, scn__spool_stream_id(sp));
    append_n(sp, 1, 20, 40);
    assert_int_equal(scn__spool_ack(sp, 12), 0);
    scn__spool_close(sp);

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    assert_string_equal(scn__spool_stream_id(sp), id);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.acked, 12);
    assert_int_equal(st.next_seq, 21);
    assert_int_equal(st.records, 8);
    assert_int_equal(st.torn_tail_repairs, 0);
    assert_int_equal(read_all(sp, seqs, 64), 8);
    assert_int_equal(seqs[0], 13);
    assert_int_equal(scn__spool_append(sp, "y", 1, &seq, NULL), 0);
    assert_int_equal(seq, 21);
    /* All acked, then reopened: seq continues from the ack, never 1.
     * The newest segment is emptied and renamed to the next seq, the
     * floor, not deleted. */
    assert_int_equal(scn__spool_ack(sp, 21), 0);
    scn__spool_close(sp);
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.records, 0);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(scn__spool_append(sp, "z", 1, &seq, NULL), 0);
    assert_int_equal(seq, 22);
    scn__spool_close(sp);
}

static void test_torn_tail(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    char path[256];
    uint64_t seqs[16], seq;
    struct stat sb;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 5, 40);
    scn__spool_close(sp);
    /* Cut the last record mid-payload, as a crash during write would. */
    seg_path(f, 1, path, sizeof(path));
    assert_int_equal(truncate(path, 5 * 56 - 30), 0);

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.torn_tail_repairs, 1);
    assert_int_equal(st.repaired_bytes, 26);
    assert_int_equal(st.records, 4);
    assert_int_equal(read_all(sp, seqs, 16), 4);
    assert_int_equal(seqs[3], 4);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, 4 * 56); /* the tail is gone on disk */
    /* Seq 5 may have reached the cloud: it is never handed out again. */
    assert_true(st.next_seq > 5);
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_true(seq > 5);
    scn__spool_close(sp);
    /* The repair is durable: a second open finds nothing to cut. */
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.torn_tail_repairs, 0);
    assert_int_equal(st.records, 5);
    scn__spool_close(sp);
}

static void test_corrupt_crc_truncates(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    char path[256];
    uint64_t seqs[16], seq;
    int fd;
    unsigned char b;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 5, 40);
    scn__spool_close(sp);
    /* Flip one payload byte of record 3 (offset 2 * 56 + 12 + 10). */
    fd = open(seg_path(f, 1, path, sizeof(path)), O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &b, 1, 2 * 56 + 22), 1);
    b ^= 0x20;
    assert_int_equal(pwrite(fd, &b, 1, 2 * 56 + 22), 1);
    close(fd);

    /* Documented policy: the segment is cut at the bad record (3, 4 and
     * 5 are gone), never skipped over. */
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.torn_tail_repairs, 1);
    assert_int_equal(st.repaired_bytes, 3 * 56);
    assert_int_equal(read_all(sp, seqs, 16), 2);
    assert_int_equal(seqs[1], 2);
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_true(seq > 5);
    scn__spool_close(sp);
}

static void test_corrupt_after_open(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    char path[256];
    int fd;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 2, 40);
    fd = open(seg_path(f, 1, path, sizeof(path)), O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "Z", 1, 20), 1);
    close(fd);
    scn__spool_rewind(sp, &cur);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), SCN_ERR_SPOOL_CORRUPT);
    scn__spool_close(sp);
}

/* The record just appended is sent from memory (no read back); any other
 * is read from disk and verified, so a change on disk is still caught. */
static void test_peek_newest_from_memory(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    char path[256];
    int fd;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 2, 40);
    fd = open(seg_path(f, 1, path, sizeof(path)), O_RDWR);
    assert_true(fd >= 0);
    /* Record 2 starts at 56 (40 bytes + 16 of overhead). */
    assert_int_equal(pwrite(fd, "Z", 1, 56 + 20), 1);
    close(fd);
    cur.next = 2;
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    assert_int_equal(rec.seq, 2);
    assert_int_equal(rec.len, 40);
    assert_memory_equal(rec.data, "rec 2", 6);
    assert_int_equal(((const char *)rec.data)[20 - 12], 'c');
    scn__spool_rewind(sp, &cur);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    assert_int_equal(rec.seq, 1);
    scn__spool_next(&cur, &rec);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), SCN_ERR_SPOOL_CORRUPT);
    scn__spool_close(sp);
}

static void test_busy(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    pid_t pid;
    int status;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        scn_spool *other = NULL;
        int rc = scn__spool_open(f->dir, 4096, &other);

        _exit(rc == SCN_ERR_SPOOL_BUSY && other == NULL ? 0 : 1);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    scn__spool_close(sp);
}

static int read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);

        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* A child appends (and acks now and then) in a loop and reports each seq
 * it got through a pipe; the parent kills it with SIGKILL mid-stream. */
static void test_kill9(void **state)
{
    fixture *f = *state;
    enum { REPORTED_BEFORE_KILL = 3000, MAX_SEQS = 20000 };
    static uint64_t reported[MAX_SEQS];
    static uint64_t seqs[MAX_SEQS + 8];
    scn_spool *sp;
    scn_spool_stats st;
    size_t nrep = 0, n, i, j;
    int fds[2], status;
    uint64_t seq, after, last_ack;
    pid_t pid;

    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        scn_spool_opts o;
        scn_spool *c;
        char buf[100];

        close(fds[0]);
        memset(&o, 0, sizeof(o));
        o.cap_bytes = 16u << 20;
        o.segment_bytes = 64u << 10; /* many segment switches */
        o.fsync = SCN_SPOOL_FSYNC_NEVER;
        if (scn__spool_open_opts(f->dir, &o, &c) != 0)
            _exit(1);
        for (uint64_t k = 0;; k++) {
            memset(buf, 'k', sizeof(buf));
            snprintf(buf, sizeof(buf), "child %llu", (unsigned long long)k);
            if (scn__spool_append(c, buf, sizeof(buf), &seq, NULL) != 0)
                _exit(2);
            if (write(fds[1], &seq, sizeof(seq)) != (ssize_t)sizeof(seq))
                _exit(3);
            /* Ack now and then so the meta file is replaced mid-run. */
            if (seq % 97 == 0 && seq > 500 &&
                (scn__spool_ack(c, seq - 500) || scn__spool_sync(c)))
                _exit(4);
        }
    }
    close(fds[1]);
    while (nrep < REPORTED_BEFORE_KILL) {
        assert_int_equal(read_full(fds[0], &reported[nrep], 8), 0);
        nrep++;
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    while (nrep < MAX_SEQS && read_full(fds[0], &reported[nrep], 8) == 0)
        nrep++;
    close(fds[0]);
    assert_true(nrep < MAX_SEQS);

    assert_int_equal(scn__spool_open(f->dir, 16u << 20, &sp), 0);
    scn__spool_get_stats(sp, &st);
    n = read_all(sp, seqs, MAX_SEQS + 8);
    assert_true(n <= MAX_SEQS);
    /* The child's last ack: after reporting the last multiple of 97, or
     * (killed before it) the one before. Acked segments may be gone
     * before the ack is saved, so the saved ack is at most that. */
    for (i = nrep; i > 0 && (reported[i - 1] % 97 || reported[i - 1] <= 500);)
        i--;
    last_ack = i > 0 ? reported[i - 1] - 500 : 0;
    assert_true(st.acked <= last_ack);
    assert_true(st.acked < reported[nrep - 1]);
    /* Every reported seq above the last ack is there, in order, and
     * nothing else but at most one more record (appended, killed before
     * reporting) at the end. */
    for (j = 0; j < n && seqs[j] <= last_ack; j++)
        assert_true(seqs[j] > st.acked);
    for (i = 0; i < nrep; i++) {
        if (reported[i] <= last_ack)
            continue;
        assert_true(j < n);
        assert_int_equal(seqs[j], reported[i]);
        j++;
    }
    assert_true(n - j <= 1);
    /* Every record's payload is intact (peek verified the CRC). */
    after = n > 0 ? seqs[n - 1] : st.acked;
    assert_true(st.next_seq > after);
    assert_true(st.next_seq > reported[nrep - 1]);
    assert_int_equal(scn__spool_append(sp, "after", 5, &seq, NULL), 0);
    assert_true(seq > reported[nrep - 1]);
    scn__spool_close(sp);
}

static void test_fsync_policies(void **state)
{
    fixture *f = *state;
    scn_spool_opts o;
    scn_spool *sp;
    scn_spool_stats st;

    memset(&o, 0, sizeof(o));
    o.cap_bytes = 4096;
    for (int p = SCN_SPOOL_FSYNC_BATCH; p <= SCN_SPOOL_FSYNC_NEVER; p++) {
        o.fsync = (scn_spool_fsync)p;
        o.interval_ms = p == SCN_SPOOL_FSYNC_INTERVAL ? 1 : 0;
        assert_int_equal(scn__spool_open_opts(f->dir, &o, &sp), 0);
        append_n(sp, 1, 12, 40); /* crosses a segment boundary */
        assert_int_equal(scn__spool_sync(sp), 0);
        scn__spool_close(sp);
    }
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.records, 48);
    assert_int_equal(st.next_seq, 49);
    scn__spool_close(sp);
    o.fsync = (scn_spool_fsync)99;
    assert_int_equal(scn__spool_open_opts(f->dir, &o, &sp),
                     SCN_ERR_INVALID_ARG);
}

/* A sender's cursor inside segments the cap dropped moves on to the
 * oldest record still held, never to a stale one. */
static void test_cursor_survives_drop(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    scn_spool_stats st;

    assert_int_equal(scn__spool_open(f->dir, 1024, &sp), 0);
    append_n(sp, 1, 4, 40);
    scn__spool_rewind(sp, &cur);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    scn__spool_next(&cur, &rec); /* sent 1, wants 2 */
    append_n(sp, 5, 40, 40);
    scn__spool_get_stats(sp, &st);
    assert_true(st.dropped_full > 2);
    assert_int_equal(scn__spool_peek(sp, &cur, &rec), 0);
    assert_int_equal(rec.seq, st.dropped_full + 1);
    scn__spool_close(sp);
}

/* What the spool said through on_report. */
typedef struct report_log {
    int n;
    int err[16];
    char line[16][256];
} report_log;

static void log_report(int err, const char *line, void *user)
{
    report_log *l = user;

    if (l->n < 16) {
        l->err[l->n] = err;
        snprintf(l->line[l->n], sizeof(l->line[0]), "%s", line);
    }
    l->n++;
}

static int open_logged(const fixture *f, report_log *l, scn_spool **sp)
{
    scn_spool_opts o;

    memset(&o, 0, sizeof(o));
    memset(l, 0, sizeof(*l));
    o.cap_bytes = 4096;
    o.on_report = log_report;
    o.user = l;
    return scn__spool_open_opts(f->dir, &o, sp);
}

/* Whether some reported line contains text (and every one is INVALID). */
static int reported(const report_log *l, const char *text)
{
    for (int i = 0; i < l->n && i < 16; i++) {
        assert_int_equal(l->err[i], SCN_ERR_SPOOL_INVALID);
        if (strstr(l->line[i], text) != NULL)
            return 1;
    }
    return 0;
}

static void write_file(const fixture *f, const char *name, const void *data,
                       size_t len)
{
    char path[256];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

static int file_exists(const fixture *f, const char *name)
{
    char path[256];
    struct stat sb;

    snprintf(path, sizeof(path), "%s/%s", f->dir, name);
    return lstat(path, &sb) == 0;
}

/* One record as the spool writes it (spool.h), well formed, CRC right. */
static size_t make_rec(unsigned char *out, uint64_t seq, const char *payload)
{
    uint32_t len = (uint32_t)strlen(payload);
    uLong crc;

    for (int i = 0; i < 4; i++)
        out[i] = (unsigned char)(len >> (8 * i));
    for (int i = 0; i < 8; i++)
        out[4 + i] = (unsigned char)(seq >> (8 * i));
    memcpy(out + 12, payload, len);
    crc = crc32(crc32(0L, Z_NULL, 0), out, 12);
    crc = crc32(crc, out + 12, len);
    for (int i = 0; i < 4; i++)
        out[12 + len + i] = (unsigned char)(crc >> (8 * i));
    return 16 + len;
}

/* Issue 14: a segment named past the seqs JSON can carry (or not named as
 * the spool names them, or not a file) is refused and left alone; the
 * valid segments are kept and no seq is reused. */
static void test_hostile_segment_names(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "seg-18446744073709551615.log", /* wraps the next seq to 0 */
        "seg-00009007199254740992.log", /* 2^53 */
        "seg-00000000000000000000.log", /* seqs start at 1 */
        "seg-1.log",
        "seg-0000000000000000000x.log",
        "seg-00000000000000000007.log.log",
    };
    unsigned char rec[64];
    report_log l;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t seqs[8], seq;
    char path[256], victim[256], back[16] = "";
    FILE *fp;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 3, 40);
    scn__spool_close(sp);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        write_file(f, bad[i], rec, make_rec(rec, 5 + i, "hostile"));
    /* A symlink under a valid name: never followed, never truncated. */
    write_file(f, "victim", "keep", 4);
    snprintf(victim, sizeof(victim), "%s/victim", f->dir);
    seg_path(f, 9, path, sizeof(path));
    assert_int_equal(symlink(victim, path), 0);

    assert_int_equal(open_logged(f, &l, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.refused, 7);
    assert_int_equal(l.n, 7);
    assert_true(reported(&l, "seg-18446744073709551615.log"));
    assert_true(reported(&l, "seg-00009007199254740992.log"));
    assert_true(reported(&l, "seg-00000000000000000009.log: not a regular"));
    assert_int_equal(st.next_seq, 4);
    assert_int_equal(read_all(sp, seqs, 8), 3);
    assert_int_equal(seqs[2], 3);
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_int_equal(seq, 4);
    scn__spool_close(sp);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_true(file_exists(f, bad[i]));
    fp = fopen(victim, "r");
    assert_non_null(fp);
    assert_non_null(fgets(back, sizeof(back), fp));
    fclose(fp);
    assert_string_equal(back, "keep");
    unlink(path);
}

/* Issue 14: a stored ack no seq can reach is refused (0: everything held
 * is resent), the stream id kept, and the refusal saved. */
static void test_hostile_ack(void **state)
{
    fixture *f = *state;
    static const char *const acks[] = {
        "9007199254740992", "18446744073709551615", "99999999999999999999999"};
    report_log l;
    scn_spool *sp;
    scn_spool_stats st;
    char id[33], meta[128];
    uint64_t seqs[8], seq;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    strcpy(id, scn__spool_stream_id(sp));
    append_n(sp, 1, 3, 40);
    scn__spool_close(sp);
    for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
        int n = snprintf(meta, sizeof(meta), "scn-spool 1\nid %s\nack %s\n", id,
                         acks[i]);

        write_file(f, "meta", meta, (size_t)n);
        assert_int_equal(open_logged(f, &l, &sp), 0);
        assert_string_equal(scn__spool_stream_id(sp), id);
        scn__spool_get_stats(sp, &st);
        assert_int_equal(st.refused, 1);
        assert_true(reported(&l, "ack"));
        assert_int_equal(st.acked, 0);
        assert_int_equal(read_all(sp, seqs, 8), 3 + i);
        assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
        assert_int_equal(seq, 4 + i);
        scn__spool_close(sp);
    }
    /* The refusal was saved: a clean open. */
    assert_int_equal(open_logged(f, &l, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.refused, 0);
    assert_int_equal(l.n, 0);
    scn__spool_close(sp);
    /* A meta that is no meta: refused, a new stream, the records kept. */
    write_file(f, "meta", "hello", 5);
    assert_int_equal(open_logged(f, &l, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.refused, 1);
    assert_true(reported(&l, "meta"));
    assert_string_not_equal(scn__spool_stream_id(sp), id);
    assert_int_equal(read_all(sp, seqs, 8), 6);
    assert_int_equal(st.next_seq, 7);
    scn__spool_close(sp);
}

/* Issue 14: a well-formed record whose seq is above 2^53-1 cuts its
 * segment there (what precedes it stays) and is reported. */
static void test_hostile_record_seq(void **state)
{
    fixture *f = *state;
    unsigned char buf[256];
    size_t n = 0;
    report_log l;
    scn_spool *sp;
    scn_spool_stats st;
    uint64_t seqs[8], seq;

    n += make_rec(buf + n, 1, "one");
    n += make_rec(buf + n, 2, "two");
    n += make_rec(buf + n, SCN_SPOOL_SEQ_MAX + 1, "past");
    n += make_rec(buf + n, SCN_SPOOL_SEQ_MAX + 2, "further");
    write_file(f, "seg-00000000000000000001.log", buf, n);
    assert_int_equal(open_logged(f, &l, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.refused, 1);
    assert_true(reported(&l, "2^53"));
    assert_int_equal(st.torn_tail_repairs, 1);
    assert_int_equal(read_all(sp, seqs, 8), 2);
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_true(seq > 2 && seq <= SCN_SPOOL_SEQ_MAX);
    scn__spool_close(sp);
}

/* The last seq is 2^53-1: the next append is refused, never wrapped. */
static void test_seq_exhausted(void **state)
{
    fixture *f = *state;
    char name[64];
    scn_spool *sp;
    uint64_t seq = 0;

    snprintf(name, sizeof(name), "seg-%020llu.log",
             (unsigned long long)SCN_SPOOL_SEQ_MAX);
    write_file(f, name, "", 0);
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    assert_int_equal(scn__spool_append(sp, "a", 1, &seq, NULL), 0);
    assert_int_equal(seq, SCN_SPOOL_SEQ_MAX);
    assert_int_equal(scn__spool_append(sp, "b", 1, &seq, NULL),
                     SCN_ERR_OUT_OF_RANGE);
    assert_int_equal(seq, SCN_SPOOL_SEQ_MAX);
    assert_int_equal(scn__spool_ack(sp, SCN_SPOOL_SEQ_MAX), 0);
    scn__spool_close(sp);
}

/* Issue 11: a listing that fails part-way is an error, not "no
 * segments" (which gave seq 1 again while 1..5 were held). */
static void test_readdir_error(void **state)
{
    fixture *f = *state;
    scn_spool *sp = NULL;
    report_log l;
    uint64_t seq;

    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    append_n(sp, 1, 5, 40);
    scn__spool_close(sp);
    fail_readdir = 1;
    assert_int_equal(open_logged(f, &l, &sp), SCN_ERR_IO);
    fail_readdir = 0;
    assert_null(sp);
    assert_int_equal(l.n, 1);
    assert_int_equal(l.err[0], SCN_ERR_IO);
    assert_non_null(strstr(l.line[0], "Value too large"));
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_int_equal(seq, 6);
    scn__spool_close(sp);
}

/* Issue 9 B: the active segment is reclaimed once everything in it is
 * acknowledged (renamed to the next seq and emptied at the sync), and a
 * stale meta.tmp is never left behind. */
static void test_rotate_acked_active(void **state)
{
    fixture *f = *state;
    scn_spool *sp;
    scn_spool_stats st;
    char path[256];
    struct stat sb;
    uint64_t seq;

    write_file(f, "meta.tmp", "", 0);
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    assert_false(file_exists(f, "meta.tmp"));
    append_n(sp, 1, 5, 40);
    assert_int_equal(scn__spool_ack(sp, 5), 0);
    scn__spool_get_stats(sp, &st);
    assert_false(st.ack_saved);
    assert_int_equal(scn__spool_sync(sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_true(st.ack_saved);
    assert_int_equal(st.segments, 1);
    assert_int_equal(st.bytes, 0);
    assert_int_equal(access(seg_path(f, 1, path, sizeof(path)), F_OK), -1);
    assert_int_equal(stat(seg_path(f, 6, path, sizeof(path)), &sb), 0);
    assert_int_equal(sb.st_size, 0);
    assert_false(file_exists(f, "meta.tmp"));
    /* Appends go on in the emptied segment. */
    assert_int_equal(scn__spool_append(sp, "n", 1, &seq, NULL), 0);
    assert_int_equal(seq, 6);
    assert_int_equal(scn__spool_ack(sp, 6), 0);
    scn__spool_close(sp);
    /* The ack of 6 was never saved by a sync of ours before close; close
     * saves it; either way seq 7 comes next. */
    assert_int_equal(scn__spool_open(f->dir, 4096, &sp), 0);
    scn__spool_get_stats(sp, &st);
    assert_int_equal(st.acked, 6);
    assert_int_equal(st.next_seq, 7);
    scn__spool_close(sp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_args, setup, teardown),
        cmocka_unit_test_setup_teardown(test_append_ack_resend, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ack_deletes_segments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_cap_drops_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_resumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_crc_truncates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_after_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_peek_newest_from_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_policies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_survives_drop, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_segment_names, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_hostile_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_record_seq, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_seq_exhausted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_readdir_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotate_acked_active, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
