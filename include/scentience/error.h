/**
 * @file
 *
 * Error codes. Every fallible call returns 0 or one of these negative codes;
 * scn_strerror() turns it into a sentence and scn_err_name() into its
 * symbol. The table is the single source of both.
 */
#ifndef SCENTIENCE_ERROR_H
#define SCENTIENCE_ERROR_H

#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** X(name, value, sentence). Values are stable: never renumber. */
#define SCN_ERRNO_MAP(X)                                                       \
    X(INVALID_ARG, -1, "invalid argument")                                     \
    X(NOMEM, -2, "out of memory")                                              \
    X(STATE, -3, "operation not allowed in the current state")                 \
    X(RECURSIVE, -4, "call not allowed from inside this callback")             \
    X(URL, -5, "malformed or unsupported URL")                                 \
    X(IO, -6, "input/output error")                                            \
    X(UNSUPPORTED, -7, "not supported")                                        \
    X(TIMEOUT, -8, "timed out")                                                \
    X(NOT_FOUND, -9, "not found")                                              \
    X(ADDRESS_IN_USE, -10,                                                     \
      "address already in use (another program listens on that port)")         \
    X(ADDRESS_UNAVAILABLE, -11, "the address is not one of this machine's")    \
    X(PERMISSION, -12, "permission denied")                                    \
    X(NO_SUCH_FILE, -13, "no such file or directory")                          \
    X(NO_SPACE, -14, "no space left on the device")                            \
    X(READ_ONLY, -15, "read-only file system")                                 \
    X(IS_DIRECTORY, -16, "is a directory")                                     \
    X(EXISTS, -17, "the file already exists")                                  \
    X(OPTIONS_SIZE, -18,                                                       \
      "the options struct's size is not one this library accepts (set it "     \
      "up with its _options_init(), from a header not newer than the "         \
      "library)")                                                              \
    X(NO_KEY, -20, "no API key: set SCENTIENCE_API_KEY or provide a key file") \
    X(KEY_FILE, -21, "the API key file cannot be read")                        \
    X(KEY_FILE_PERMS, -22,                                                     \
      "the API key file is accessible by group or others (chmod 600)")         \
    X(KEY_FORMAT, -23, "the API key is empty or contains invalid characters")  \
    X(KEY_INVALID, -24, "the API key was rejected as invalid")                 \
    X(KEY_EXPIRED, -25, "the API key has expired")                             \
    X(KEY_REVOKED, -26, "the API key was revoked")                             \
    X(ADDRESS_NOT_ALLOWED, -27,                                                \
      "the API key does not allow connections from this address")              \
    X(QUOTA, -28, "the API key's usage quota is exhausted")                    \
    X(DEVICE_UNKNOWN, -29, "no device with that UID is served here")           \
    X(POLICY, -30, "the server closed the session for a policy violation")     \
    X(NETWORK, -40, "network error: the server could not be reached")          \
    X(HANDSHAKE, -41, "the WebSocket handshake was refused")                   \
    X(SERVER, -42, "the server reported an internal error")                    \
    X(GOING_AWAY, -43, "the server is going away")                             \
    X(TRY_AGAIN, -44, "the server asked to try again later")                   \
    X(PEER_CLOSED, -45, "the connection was closed by the peer")               \
    X(DEAD_PEER, -46, "no traffic from the peer within the idle timeout")      \
    X(TLS, -47, "TLS failure (certificate or handshake)")                      \
    X(ATTEMPTS_EXHAUSTED, -48, "gave up after the reconnect attempt limit")    \
    X(END_OF_STREAM, -49, "the stream ended: the server has no more data")     \
    X(RESOLVE, -50,                                                            \
      "the host name could not be resolved (no DNS answer, or no such name)")  \
    X(MESSAGE_TOO_BIG, -60, "message larger than the configured maximum")      \
    X(QUEUE_FULL, -61, "the queue is full")                                    \
    X(MALFORMED, -62, "malformed message")                                     \
    X(WRONG_TYPE, -63, "a field has the wrong JSON type")                      \
    X(MISSING_FIELD, -64, "a required field is missing")                       \
    X(OUT_OF_RANGE, -65, "a value is out of its allowed range")                \
    X(TOO_DEEP, -66, "message nested too deeply")                              \
    X(UNKNOWN_TYPE, -67, "message of unknown type")                            \
    X(ABSENT, -68, "the field is absent")                                      \
    X(UAV_REFUSED, -80, "the drone answered error")                            \
    X(UAV_SUPERSEDED, -81,                                                     \
      "superseded by an emergency stop before the drone answered")             \
    X(UAV_LINK_LOST, -82,                                                      \
      "not sent: no drone link when it was to be written (not executed)")      \
    X(UAV_OUTCOME_UNKNOWN, -83,                                                \
      "the drone link was lost after the command was written: it may have "    \
      "been executed")                                                         \
    X(UAV_NOT_AIRBORNE, -84,                                                   \
      "not sent: the drone is not known to be airborne (no takeoff answered "  \
      "ok)")                                                                   \
    X(MCAP_FORMAT, -100, "not an MCAP file, or a malformed MCAP record")       \
    X(MCAP_CRC, -101, "MCAP CRC mismatch: the recording is corrupt")           \
    X(MCAP_TRUNCATED, -102, "the MCAP recording ends before its header")       \
    X(SPOOL_CORRUPT, -120,                                                     \
      "a spool record changed on disk since it was "                           \
      "written")                                                               \
    X(SPOOL_BUSY, -121, "the spool is in use by another process")              \
    X(SPOOL_FULL, -122, "no room left on the spool's disk")                    \
    X(SPOOL_INVALID, -123,                                                     \
      "the spool holds a file or value out of range (refused)")                \
    X(MQTT_AUTH, -140, "the MQTT broker refused the username or password")     \
    X(MQTT_NOT_AUTHORISED, -141,                                               \
      "the MQTT broker refused: this client is not authorised")                \
    X(MQTT_REFUSED, -142,                                                      \
      "the MQTT broker refused the connection (protocol or client id)")

typedef enum scn_err {
    SCN_OK = 0,
#define SCN_ERR_ENUM_(name, value, text) SCN_ERR_##name = value,
    SCN_ERRNO_MAP(SCN_ERR_ENUM_)
#undef SCN_ERR_ENUM_
} scn_err;

/**
 * The code for a system error number (errno): the classes a user can cause
 * and fix, ADDRESS_IN_USE, ADDRESS_UNAVAILABLE, PERMISSION, NO_SUCH_FILE,
 * NO_SPACE, READ_ONLY, IS_DIRECTORY, EXISTS; NOMEM; IO for the rest. Calls
 * that fail on a file or a socket return these, so that a message can say
 * what is wrong, next to the path or port the caller knows. Never 0.
 */
SCN_API int scn_err_from_errno(int errnum);

/** A sentence describing err; never NULL, never contains secrets. */
SCN_API const char *scn_strerror(int err);

/** The symbol of err without the SCN_ERR_ prefix ("QUEUE_FULL"), "OK" for 0,
 * "UNKNOWN" for values not in the table. */
SCN_API const char *scn_err_name(int err);

#ifdef __cplusplus
}
#endif

#endif
