/*
 * Recovery of a killed or damaged recording: read what is valid (salvage
 * mode), write it again through the recorder, which produces the indexes,
 * summary and footer the original never got.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <scentience/error.h>
#include <scentience/recording.h>

#include "mcap_writer.h"

/* Whether two paths name the same file: writing out would truncate the
 * mapped input under the reader. */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

static int copy(scn_recording *in, scn_recorder *rec)
{
    scn_recording_info info;
    scn_recording_message m;
    uint16_t *ids = NULL;
    int rc = 0;

    scn_recording_get_info(in, &info);
    if (info.channel_count && !(ids = calloc(65536, sizeof(*ids))))
        return SCN_ERR_NOMEM;
    for (size_t i = 0; i < info.channel_count; i++) {
        const scn_recording_channel *c = scn_recording_channel_at(in, i);

        rc = scn__recorder_add_channel_raw(
            rec, c->topic, c->message_encoding, c->schema_name,
            c->schema_encoding, c->schema_data, c->schema_len, &ids[c->id]);
        if (rc)
            goto out;
    }
    scn_recording_rewind(in);
    while (scn_recording_next(in, &m)) {
        rc = scn__recorder_write_seq(rec, ids[m.channel->id], m.sequence,
                                     m.log_time_ns, m.publish_time_ns, m.data,
                                     m.len);
        if (rc)
            goto out;
    }
out:
    free(ids);
    return rc;
}

int scn_recording_recover(const char *in_path, const char *out_path,
                          scn_recording_info *kept)
{
    scn_recorder_options opts;
    scn_recording *in = NULL;
    scn_recorder *rec = NULL;
    int rc, saved;

    if (!in_path || !out_path)
        return SCN_ERR_INVALID_ARG;
    if (same_file(in_path, out_path))
        return SCN_ERR_INVALID_ARG;
    if ((rc = scn_recording_open(in_path, SCN_RECORDING_SALVAGE, &in)))
        return rc;
    if (kept)
        scn_recording_get_info(in, kept);
    scn_recorder_options_init(&opts);
    /* One sync at the end is enough: if recovery itself is killed, the
     * input is still there to recover from. */
    opts.flush_interval_ms = 0;
    if ((rc = scn_recorder_new(out_path, &opts, &rec)))
        goto out;
    rc = copy(in, rec);
    if (!rc)
        rc = scn_recorder_finish(rec);
    scn_recorder_free(rec);
    if (rc) {
        saved = errno;
        unlink(out_path);
        errno = saved;
    }
out:
    scn_recording_close(in);
    return rc;
}
