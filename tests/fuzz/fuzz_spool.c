/*
 * Spool recovery (lib/cloud/spool.c): whatever a crash, a full disk or a hand
 * leaves in the spool directory. The input is a small archive of files
 * written into a fresh directory, then the spool is opened on it and used.
 * Entries, each starting with a kind byte k:
 *   k % 8 == 0  raw segment: name (8 bytes), length (2), bytes
 *   k % 8 == 1  segment of records with valid CRCs: name (1 byte, or 8
 *               when k & 0x20), count (1), then per record a seq step (1)
 *               and a payload length (1) and bytes; k & 0x10 breaks the
 *               last CRC
 *   k % 8 == 2  raw meta: length (1), bytes
 *   k % 8 == 3  well-formed meta: its ack (1 byte, or 8 when k & 0x20)
 *   k % 8 >= 4  a file named "seg-" + name bytes + ".log": length of the
 *               name (1), name, length (1), bytes
 * Promises checked: seqs stay within SCN_SPOOL_SEQ_MAX; the records
 * offered for resending are in seq order, unacknowledged and below
 * next_seq; a new record gets next_seq and a seq above every record still
 * held (or is refused when the seqs are exhausted); it can be read and
 * acknowledged, the ack survives a reopen, and no seq handed out comes
 * back; what the spool reports is printable (file names come from disk).
 */
#include "fuzz.h"

#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <unistd.h>
#include <zlib.h>

#include <scentience/error.h>

#include "spool.h"

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
    uint64_t name = fuzz_take(in, k & 0x20 ? 8 : 1), seq = name;
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

/* A file whose name (between "seg-" and ".log") comes from the input: a
 * '/' or a NUL cannot be in a name, so they become '_'. */
static void odd_name(fuzz_in *in, const char *dir)
{
    char name[64] = "seg-";
    size_t n = (size_t)fuzz_take(in, 1) % 32, len;

    for (size_t i = 0; i < n; i++) {
        char c = (char)fuzz_take(in, 1);
        name[4 + i] = c == '/' || c == '\0' ? '_' : c;
    }
    memcpy(name + 4 + n, ".log", 5);
    if (strcmp(name + 4, "..log") == 0)
        return;
    len = (size_t)fuzz_take(in, 1);
    len = len < in->n ? len : in->n;
    write_file(dir, name, in->p, len);
    in->p += len;
    in->n -= len;
}

static void build(fuzz_in *in, const char *dir)
{
    char text[128];

    for (int entries = 0; in->n > 0 && entries < 16; entries++) {
        unsigned k = (unsigned)fuzz_take(in, 1);
        size_t n;
        switch (k % 8) {
        case 0: {
            uint64_t name = fuzz_take(in, 8);
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
        case 4:
        case 5:
        case 6:
        case 7:
            odd_name(in, dir);
            break;
        default:
            n = (size_t)snprintf(
                text, sizeof text,
                "scn-spool 1\nid 0123456789abcdef0123456789abcdef\nack %" PRIu64
                "\n",
                fuzz_take(in, k & 0x20 ? 8 : 1));
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

    scn__spool_get_stats(sp, &st);
    FUZZ_CHECK(st.next_seq > st.acked && st.next_seq <= SCN_SPOOL_SEQ_MAX + 1,
               "next seq %" PRIu64 ", acked %" PRIu64, st.next_seq, st.acked);
    scn__spool_rewind(sp, &cur);
    while ((rc = scn__spool_peek(sp, &cur, &rec)) == 0) {
        FUZZ_CHECK(rec.seq > st.acked && rec.seq > last &&
                       rec.seq < st.next_seq,
                   "record %" PRIu64 " (acked %" PRIu64 ", last %" PRIu64
                   ", next %" PRIu64 ")",
                   rec.seq, st.acked, last, st.next_seq);
        last = rec.seq;
        count++;
        scn__spool_next(&cur, &rec);
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

/* What the spool reports names files found on disk: it must reach a log
 * as printable text. */
static void on_report(int err, const char *line, void *user)
{
    (void)err;
    (void)user;
    for (const char *p = line; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f,
                   "byte 0x%02x in a report", (unsigned char)*p);
}

static scn_spool *open_spool(const char *dir)
{
    scn_spool_opts o;
    scn_spool *sp = NULL;
    int rc;

    memset(&o, 0, sizeof o);
    o.cap_bytes = 64 * 1024;
    o.on_report = on_report;
    rc = scn__spool_open_opts(dir, &o, &sp);
    FUZZ_CHECK(rc == 0, "open: %s", scn_err_name(rc));
    return sp;
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
    sp = open_spool(dir);
    held = check_held(sp);
    scn__spool_get_stats(sp, &st);
    next = st.next_seq;
    rc = scn__spool_append(sp, "fuzz", 4, &seq, NULL);
    if (rc == SCN_ERR_OUT_OF_RANGE) {
        /* Only when no seq is left to hand out. */
        FUZZ_CHECK(next > SCN_SPOOL_SEQ_MAX, "append refused at %" PRIu64,
                   next);
        scn__spool_close(sp);
        remove_dir(dir);
        return 0;
    }
    FUZZ_CHECK(rc == 0, "append: %s", scn_err_name(rc));
    FUZZ_CHECK(seq == next && seq > held && seq <= SCN_SPOOL_SEQ_MAX,
               "new record got seq %" PRIu64 " (next %" PRIu64 ", %" PRIu64
               " still held)",
               seq, next, held);
    cur.next = seq;
    FUZZ_CHECK(scn__spool_peek(sp, &cur, &rec) == 0 && rec.seq == seq &&
                   rec.len == 4 && memcmp(rec.data, "fuzz", 4) == 0,
               "new record not read back");
    check_held(sp);
    FUZZ_CHECK(scn__spool_ack(sp, seq) == 0, "ack of the new record");
    scn__spool_get_stats(sp, &st);
    FUZZ_CHECK(st.records == 0 && st.acked == seq, "after the ack");
    FUZZ_CHECK(scn__spool_sync(sp) == 0, "sync");
    scn__spool_close(sp);

    sp = open_spool(dir);
    check_held(sp);
    scn__spool_get_stats(sp, &st);
    FUZZ_CHECK(st.next_seq > seq, "seq %" PRIu64 " handed out again", seq);
    FUZZ_CHECK(st.acked == seq && st.records == 0,
               "ack %" PRIu64 " not kept (%" PRIu64 ")", seq, st.acked);
    scn__spool_close(sp);
    remove_dir(dir);
    return 0;
}
