/*
 * A program outside the project that uses an installed libscentience the
 * way an application would: only the public umbrella header, only the
 * exported symbols. run-install-test builds it twice (CMake's
 * find_package, then pkg-config) and compares its output with the
 * expected text.
 */
#include <stdio.h>
#include <string.h>

#include <scentience/scentience.h>

/* The example frame of docs/PROTOCOL.md, section 3.1 (published). */
static const char example_frame[] =
    "{ \"UID\": \"SCN001\", \"TIMESTAMP\": \"2025-08-29T21:00:00Z\", "
    "\"SEQ\": 41,\n"
    "  \"ENV_temperatureC\": 21.5, \"ENV_humidity\": 40.2, "
    "\"ENV_pressureHpa\": 1010,\n"
    "  \"STATUS_opuA\": 0, \"BATT_health\": 98, \"BATT_v\": 4.5, "
    "\"BATT_charge\": 83,\n"
    "  \"BATT_time\": 2, \"NH3\": 270, \"CO\": 1275, \"VOC\": 2917 }";

int main(void)
{
    scn_frame *frame = NULL;
    uint64_t seq = 0;
    int rc;

    printf("version: %s\n", SCN_VERSION_STRING);
    printf("strerror: %s\n", scn_strerror(SCN_ERR_QUEUE_FULL));
    printf("err_name: %s\n", scn_err_name(-61));

    rc = scn_frame_new(&frame);
    if (rc != 0) {
        printf("scn_frame_new: %s\n", scn_err_name(rc));
        return 1;
    }
    rc = scn_frame_parse(frame, example_frame, strlen(example_frame));
    if (rc != 0) {
        printf("scn_frame_parse: %s\n", scn_err_name(rc));
        scn_frame_free(frame);
        return 1;
    }
    printf("uid: %s\n", scn_frame_uid(frame));
    if (scn_frame_seq(frame, &seq) == 0)
        printf("seq: %llu\n", (unsigned long long)seq);
    printf("NH3: %g\n", scn_frame_compound(frame, SCN_NH3, SCN_CHANNEL_SINGLE));
    scn_frame_free(frame);
    return 0;
}
