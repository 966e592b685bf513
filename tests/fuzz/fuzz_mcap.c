/*
 * MCAP recordings (lib/mcap/mcap_reader.c, lib/mcap/mcap_recover.c): a
 * recording may come from anywhere. The input is opened from memory, strictly
 * and in salvage mode; what opens must describe itself consistently (counts,
 * channels, messages in log time order, data inside the file). What
 * salvage keeps is then recovered through files, and the recovered file
 * must open strictly, complete, with exactly the messages salvage read.
 */
#include "fuzz.h"

#include <fcntl.h>
#include <unistd.h>

#include <scentience/error.h>
#include <scentience/recording.h>

typedef struct msg {
    const char *topic;
    uint32_t sequence;
    uint64_t log_ns, publish_ns;
    const char *data;
    size_t len;
} msg;

/* Checks what an open recording says about itself; returns its messages
 * (malloc'ed, *n of them). */
static msg *walk(scn_recording *r, const uint8_t *file, size_t size, size_t *n)
{
    scn_recording_info info;
    scn_recording_message m;
    msg *v;
    size_t i = 0;

    scn_recording_get_info(r, &info);
    FUZZ_CHECK(info.valid_bytes <= size && info.file_bytes == size,
               "valid %llu of %llu bytes", (unsigned long long)info.valid_bytes,
               (unsigned long long)info.file_bytes);
    for (size_t c = 0; c < info.channel_count; c++) {
        const scn_recording_channel *ch = scn_recording_channel_at(r, c);
        FUZZ_CHECK(ch != NULL && ch->topic && ch->message_encoding &&
                       ch->schema_name && ch->schema_encoding &&
                       ch->schema_data,
                   "channel %zu", c);
        FUZZ_CHECK(scn_recording_find_channel(r, ch->topic) != NULL,
                   "topic %s not found", ch->topic);
    }
    FUZZ_CHECK(scn_recording_channel_at(r, info.channel_count) == NULL,
               "channel past the count");
    v = calloc(info.message_count + 1, sizeof *v);
    FUZZ_CHECK(v != NULL, "out of memory");
    scn_recording_rewind(r);
    while (scn_recording_next(r, &m)) {
        FUZZ_CHECK(i < info.message_count, "more messages than counted");
        FUZZ_CHECK(m.channel != NULL, "message without a channel");
        FUZZ_CHECK(
            file == NULL || m.len == 0 ||
                ((const uint8_t *)m.data >= file &&
                 (const uint8_t *)m.data + m.len <= file + info.valid_bytes),
            "message data outside the valid bytes");
        FUZZ_CHECK(i == 0 || m.log_time_ns >= v[i - 1].log_ns,
                   "messages out of log time order");
        v[i++] = (msg){m.channel->topic,  m.sequence, m.log_time_ns,
                       m.publish_time_ns, m.data,     m.len};
    }
    FUZZ_CHECK(i == info.message_count, "%zu messages, %llu counted", i,
               (unsigned long long)info.message_count);
    *n = i;
    return v;
}

static void write_file(const char *path, const uint8_t *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    FUZZ_CHECK(fd >= 0 && write(fd, data, size) == (ssize_t)size,
               "cannot write %s", path);
    close(fd);
}

/* Recovers the input through files; the result must match what salvage
 * read from memory. */
static void check_recover(const uint8_t *data, size_t size, const msg *want,
                          size_t nwant)
{
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[256], in[300], out[300];
    scn_recording_info kept, info;
    scn_recording *r;
    size_t n;
    msg *got;
    int rc;

    snprintf(dir, sizeof dir, "%s/fuzz-mcap.XXXXXX", tmp);
    FUZZ_CHECK(mkdtemp(dir) != NULL, "mkdtemp in %s", tmp);
    snprintf(in, sizeof in, "%s/in.mcap", dir);
    snprintf(out, sizeof out, "%s/out.mcap", dir);
    write_file(in, data, size);
    rc = scn_recording_recover(in, out, &kept);
    if (rc != 0) {
        FUZZ_CHECK(access(out, F_OK) != 0, "failed recovery (%s) left %s",
                   scn_err_name(rc), out);
    } else {
        FUZZ_CHECK(kept.message_count == nwant, "recovery kept %llu, not %zu",
                   (unsigned long long)kept.message_count, nwant);
        rc = scn_recording_open(out, 0, &r);
        FUZZ_CHECK(rc == 0, "recovered file does not open: %s",
                   scn_err_name(rc));
        scn_recording_get_info(r, &info);
        FUZZ_CHECK(info.complete && !info.truncated, "recovered, incomplete");
        /* The recovered file is mapped: its data pointers are its own. */
        got = walk(r, NULL, info.file_bytes, &n);
        FUZZ_CHECK(n == nwant, "%zu messages recovered of %zu", n, nwant);
        for (size_t i = 0; i < n; i++)
            FUZZ_CHECK(strcmp(got[i].topic, want[i].topic) == 0 &&
                           got[i].sequence == want[i].sequence &&
                           got[i].log_ns == want[i].log_ns &&
                           got[i].publish_ns == want[i].publish_ns &&
                           got[i].len == want[i].len &&
                           memcmp(got[i].data, want[i].data, got[i].len) == 0,
                       "message %zu changed in recovery", i);
        free(got);
        scn_recording_close(r);
        unlink(out);
    }
    unlink(in);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    scn_recording *r;
    msg *v;
    size_t n;

    if (scn_recording_open_memory(data, size, 0, &r) == 0) {
        free(walk(r, data, size, &n));
        scn_recording_close(r);
    }
    if (scn_recording_open_memory(data, size, SCN_RECORDING_SALVAGE, &r) == 0) {
        v = walk(r, data, size, &n);
        check_recover(data, size, v, n);
        free(v);
        scn_recording_close(r);
    }
    return 0;
}
