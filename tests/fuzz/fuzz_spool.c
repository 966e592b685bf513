/*
 * Spool recovery (lib/spool.c): whatever a crash, a full disk or a hand
 * leaves in the spool directory. The input is a small archive of files
 * written into a fresh directory, then the spool is opened on it and used.
 * Entries, each starting with a kind byte k:
 *   k % 4 == 0  raw segment: name (8 bytes), length (2), bytes
 *   k % 4 == 1  segment of records with valid CRCs: name (1 byte, or 8
 *               when k & 0x20), count (1), then per record a seq step (1)
 *               and a payload length (1) and bytes; k & 0x10 breaks the
 *               last CRC
 *   k % 4 == 2  raw meta: length (1), bytes
 *   k % 4 == 3  well-formed meta: its ack (1 byte, or 8 when k & 0x20)
 * Promises checked: the records offered for resending are in seq order,
 * unacknowledged and below next_seq; a new record gets next_seq and a seq
 * above every record still held; it can be read, acknowledged, and after
 * a reopen no seq handed out comes back.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>

#include "spool.h"

/* Segment names and acks read from the input stay below 2^53 until the
 * spool validates what it finds on disk (issue 9, item 14: a name or an
 * ack near 2^64 makes seqs wrap). Then this bound goes, and the checks
 * below hold for any name and ack. */
#define FOUND_ON_DISK_MAX ((UINT64_C(1) << 53) - 1)

static uint64_t take_seq(fuzz_in *in, size_t bytes)
{
    return fuzz_take(in, bytes) & FOUND_ON_DISK_MAX;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void write_file(const char *dir, const char *name, const void *data,
                       size_t n)
{
    char path[512];
    int fd;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    FUZZ_CHECK(fd >= 0, "cannot create %s", path);
    FUZZ_CHECK(n == 0 || write(fd, data, n) == (ssize_t)n, "cannot write");
    close(fd);
}

static void seg_file(const char *dir, uint64_t name, const void *data, size_t n)
{
    char fname[64];

    snprintf(fname, sizeof fname, "seg-%020" PRIu64 ".log", name);
    write_file(dir, fname, data, n);
}

/* A segment of well-formed records (see the top of the file). */
static void records(fuzz_in *in, unsigned k, const char *dir)
{
    uint64_t name = take_seq(in, k & 0x20 ? 8 : 1), seq = name;
    unsigned count = (unsigned)fuzz_take(in, 1) % 33;
    uint8_t buf[33 * (16 + 255)];
    size_t n = 0;

    for (unsigned i = 0; i < count; i++) {
        size_t len = (size_t)fuzz_take(in, 1);
        seq += fuzz_take(in, 1);
        if (len > in->n)
            len = in->n;
        put_le(buf + n, len, 4);
        put_le(buf + n + 4, seq, 8);
        memcpy(buf + n + 12, in->p, len);
        in->p += len;
        in->n -= len;
        uLong crc = crc32(crc32(0L, Z_NULL, 0), buf + n, (uInt)(12 + len));
        if ((k & 0x10) && i + 1 == count)
            crc ^= 1;
        put_le(buf + n + 12 + len, crc, 4);
        n += 16 + len;
    }
    seg_file(dir, name, buf, n);
}

static void build(fuzz_in *in, const char *dir)
{
    char text[128];

    for (int entries = 0; in->n > 0 && entries < 16; entries++) {
        unsigned k = (unsigned)fuzz_take(in, 1);
        size_t n;
        switch (k % 4) {
        case 0: {
            uint64_t name = take_seq(in, 8);
            n = (size_t)fuzz_take(in, 2);
            n = n < in->n ? n : in->n;
            seg_file(dir, name, in->p, n);
            in->p += n;
            in->n -= n;
            break;
        }
        case 1:
            records(in, k, dir);
            break;
        case 2:
            n = (size_t)fuzz_take(in, 1);
            n = n < in->n ? n : in->n;
            write_file(dir, "meta", in->p, n);
            in->p += n;
            in->n -= n;
            break;
        default:
            n = (size_t)snprintf(
                text, sizeof text,
                "scn-spool 1\nid 0123456789abcdef0123456789abcdef\nack %" PRIu64
                "\n",
                take_seq(in, k & 0x20 ? 8 : 1));
            write_file(dir, "meta", text, n);
            break;
        }
    }
}

/* The records offered for resending; returns the highest seq held. */
static uint64_t check_held(scn_spool *sp)
{
    scn_spool_stats st;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    uint64_t count = 0, last = 0;
    int rc;

    scn_spool_get_stats(sp, &st);
    FUZZ_CHECK(st.next_seq > st.acked, "next seq %" PRIu64 ", acked %" PRIu64,
               st.next_seq, st.acked);
    scn_spool_rewind(sp, &cur);
    while ((rc = scn_spool_peek(sp, &cur, &rec)) == 0) {
        FUZZ_CHECK(rec.seq > st.acked && rec.seq > last &&
                       rec.seq < st.next_seq,
                   "record %" PRIu64 " (acked %" PRIu64 ", last %" PRIu64
                   ", next %" PRIu64 ")",
                   rec.seq, st.acked, last, st.next_seq);
        last = rec.seq;
        count++;
        scn_spool_next(&cur, &rec);
    }
    FUZZ_CHECK(rc == SCN_ERR_NOT_FOUND, "peek: %s", scn_err_name(rc));
    FUZZ_CHECK(count == st.records, "%" PRIu64 " records, %" PRIu64 " counted",
               count, st.records);
    return last;
}

/* The directory and the files in it (the spool makes no subdirectory). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    FUZZ_CHECK(d != NULL, "cannot list %s", dir);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    fuzz_in in = {data, size};
    char dir[256];
    scn_spool *sp;
    scn_spool_stats st;
    scn_spool_cursor cur;
    scn_spool_rec rec;
    uint64_t held, seq = 0, next;
    int rc;

    snprintf(dir, sizeof dir, "%s/fuzz-spool.XXXXXX", tmp);
    FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp in %s", tmp);
    build(&in, dir);
    rc = scn_spool_open(dir, 64 * 1024, &sp);
    FUZZ_CHECK(rc == 0, "open: %s", scn_err_name(rc));
    held = check_held(sp);
    scn_spool_get_stats(sp, &st);
    next = st.next_seq;
    rc = scn_spool_append(sp, "fuzz", 4, &seq, NULL);
    FUZZ_CHECK(rc == 0, "append: %s", scn_err_name(rc));
    FUZZ_CHECK(seq == next && seq > held,
               "new record got seq %" PRIu64 " (next %" PRIu64 ", %" PRIu64
               " still held)",
               seq, next, held);
    cur.next = seq;
    FUZZ_CHECK(scn_spool_peek(sp, &cur, &rec) == 0 && rec.seq == seq &&
                   rec.len == 4 && memcmp(rec.data, "fuzz", 4) == 0,
               "new record not read back");
    check_held(sp);
    FUZZ_CHECK(scn_spool_ack(sp, seq) == 0, "ack of the new record");
    scn_spool_get_stats(sp, &st);
    FUZZ_CHECK(st.records == 0 && st.acked == seq, "after the ack");
    scn_spool_close(sp);

    rc = scn_spool_open(dir, 64 * 1024, &sp);
    FUZZ_CHECK(rc == 0, "reopen: %s", scn_err_name(rc));
    check_held(sp);
    scn_spool_get_stats(sp, &st);
    FUZZ_CHECK(st.next_seq > seq, "seq %" PRIu64 " handed out again", seq);
    scn_spool_close(sp);
    remove_dir(dir);
    return 0;
}
