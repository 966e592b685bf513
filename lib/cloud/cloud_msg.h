/*
 * Messages of the cloud inference stream (docs/PROTOCOL.md, "Cloud
 * inference stream", subprotocol scentience.cloud.v1): encoding of the
 * client's fused records and predict bodies, strict decoding of what the
 * cloud sends. No sockets; the cloud session and scn-predict use it.
 */
#ifndef SCN_CLOUD_MSG_H
#define SCN_CLOUD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <scentience/frame.h>

#define SCN_CLOUD_PROTOCOL "scentience.cloud.v1"

/* Bounds of decoded values. Lists longer than their bound keep the first
 * entries and count the rest (a newer cloud may send more); a string
 * longer than its bound is an error, except the error message, which is
 * human text and is cut at a UTF-8 boundary. */
#define SCN_CLOUD_MAX_LABELS   16
#define SCN_CLOUD_MAX_MODELS   16
#define SCN_CLOUD_NAME_MAX     63  /* model and label names, bytes */
#define SCN_CLOUD_COMPOUND_MAX 15  /* target compound */
#define SCN_CLOUD_CODE_MAX     31  /* error code, hello protocol, type */
#define SCN_CLOUD_STREAM_MAX   64  /* stream id */
#define SCN_CLOUD_MESSAGE_MAX  255 /* error message */
/* Seqs travel as JSON numbers: integers below 2^53 stay exact everywhere. */
#define SCN_CLOUD_SEQ_MAX ((UINT64_C(1) << 53) - 1)
/* Seqs in one resend request. */
#define SCN_CLOUD_RESEND_MAX 64
/* Largest retry_after accepted (one day), seconds. */
#define SCN_CLOUD_RETRY_AFTER_MAX 86400

typedef enum scn_cloud_msg_type {
    SCN_CLOUD_MSG_UNKNOWN = 0, /* a type this client does not know */
    SCN_CLOUD_MSG_HELLO,
    SCN_CLOUD_MSG_INFERENCE,
    SCN_CLOUD_MSG_ACK,
    SCN_CLOUD_MSG_ERROR
} scn_cloud_msg_type;

typedef struct scn_cloud_label {
    char label[SCN_CLOUD_NAME_MAX + 1];
    double score; /* [0, 1] */
} scn_cloud_label;

typedef struct scn_cloud_inference {
    char model[SCN_CLOUD_NAME_MAX + 1];
    bool has_seq; /* always true on the stream; predict answers have none */
    uint64_t seq; /* the seq of the input record it answers */
    size_t label_count;
    size_t labels_dropped;
    scn_cloud_label labels[SCN_CLOUD_MAX_LABELS];
    bool has_target;
    char compound[SCN_CLOUD_COMPOUND_MAX + 1];
    bool has_bearing;
    double bearing_deg; /* [0, 360), clockwise from the drone's heading */
} scn_cloud_inference;

typedef struct scn_cloud_ack {
    uint64_t seq; /* cumulative: every record <= seq was received */
} scn_cloud_ack;

typedef struct scn_cloud_error {
    char code[SCN_CLOUD_CODE_MAX + 1];
    char message[SCN_CLOUD_MESSAGE_MAX + 1]; /* "" when absent */
    bool message_truncated;
    bool has_seq;
    uint64_t seq;
    bool has_retry_after;
    uint32_t retry_after_ms; /* rounded up from seconds */
} scn_cloud_error;

typedef struct scn_cloud_hello {
    char protocol[SCN_CLOUD_CODE_MAX + 1];
    size_t model_count;
    size_t models_dropped;
    char models[SCN_CLOUD_MAX_MODELS][SCN_CLOUD_NAME_MAX + 1];
    bool has_stream;
    char stream[SCN_CLOUD_STREAM_MAX + 1];
    bool has_acked;
    uint64_t acked; /* the cloud's last ack for this stream (0: none) */
} scn_cloud_hello;

typedef struct scn_cloud_msg {
    scn_cloud_msg_type type;
    /* The received type name (cut to fit) when type is UNKNOWN. */
    char type_name[SCN_CLOUD_CODE_MAX + 1];
    union {
        scn_cloud_hello hello;
        scn_cloud_inference inference;
        scn_cloud_ack ack;
        scn_cloud_error error;
    } u;
} scn_cloud_msg;

/*
 * Encodes a fused record:
 *   {"type":"frame","seq":N,"frame":FRAME,"state":STATE,"state_age_ms":K}
 * frame_json[0..frame_len) is a device frame object as the client holds it
 * (scn_frame_to_json()), copied verbatim after a strict check. state_json
 * (NULL: neither "state" nor "state_age_ms") is a JSON object of number
 * and string members (e.g. scn_uav_state_to_json()), copied verbatim:
 * the drone names its members, the client adds nothing inside it, so no
 * name can collide; state_age_ms (frame time minus state time; negative
 * when the state is newer) goes beside it.
 * *out is malloc'ed, NUL-terminated, *out_len its length (may be NULL).
 * Returns: 0; SCN_ERR_OUT_OF_RANGE (seq 0 or above SCN_CLOUD_SEQ_MAX,
 * |age_ms| above SCN_CLOUD_SEQ_MAX, a number beyond a double's range in
 * the frame or the state); SCN_ERR_MALFORMED (not strict JSON, a repeated
 * key, a string not UTF-8); SCN_ERR_WRONG_TYPE (not an object, a state
 * member that is not a number or string); SCN_ERR_TOO_DEEP;
 * SCN_ERR_NOMEM; SCN_ERR_INVALID_ARG.
 */
int scn__cloud_encode_frame(uint64_t seq, const char *frame_json,
                            size_t frame_len, const char *state_json,
                            size_t state_len, int64_t age_ms, char **out,
                            size_t *out_len);

/* {"type":"resend","seqs":[...]}: asks again for the answers to records the
 * cloud acknowledged while they were lost with a connection (1 to
 * SCN_CLOUD_RESEND_MAX seqs, each in [1, SCN_CLOUD_SEQ_MAX]). Returns as
 * scn__cloud_encode_frame(). */
int scn__cloud_encode_resend(const uint64_t *seqs, size_t n, char **out,
                             size_t *out_len);
/* The same, and on a refusal why[0..why_cap) says in words which part
 * (record, frame, drone state) and which member is at fault; "" on
 * success. why may be NULL. */
int scn__cloud_encode_frame_why(uint64_t seq, const char *frame_json,
                                size_t frame_len, const char *state_json,
                                size_t state_len, int64_t age_ms, char **out,
                                size_t *out_len, char *why, size_t why_cap);

/* The same record from a parsed frame (scn_frame_parse() or a session's
 * on_frame): its canonical JSON goes in without being parsed again; only
 * nested objects and arrays, which the frame rules do not hold to unique
 * member names, are checked. */
int scn__cloud_encode_parsed_why(uint64_t seq, const scn_frame *frame,
                                 const char *state_json, size_t state_len,
                                 int64_t age_ms, char **out, size_t *out_len,
                                 char *why, size_t why_cap);

/* The same with state_json already held to the state rules (one JSON
 * object of string and finite number members under unique names, in
 * UTF-8: scn_uav_state_to_json() writes no other) by the caller: copied
 * without being checked again. */
int scn__cloud_encode_parsed_checked(uint64_t seq, const scn_frame *frame,
                                     const char *state_json, size_t state_len,
                                     int64_t age_ms, char **out,
                                     size_t *out_len, char *why,
                                     size_t why_cap);

/* The POST /v1/predict body {"input":FRAME}; frame checked as above. */
int scn__cloud_encode_predict(const char *frame_json, size_t frame_len,
                              char **out, size_t *out_len);

/*
 * Decodes one message from the cloud, text[0..len) (strict JSON, an
 * object with a string "type"; unknown members are ignored).
 * Returns: 0; SCN_ERR_UNKNOWN_TYPE (msg->type UNKNOWN, type_name set: the
 * caller ignores and counts it); SCN_ERR_MALFORMED (not strict JSON, not
 * an object, a repeated key, a string not UTF-8); SCN_ERR_MISSING_FIELD;
 * SCN_ERR_WRONG_TYPE; SCN_ERR_OUT_OF_RANGE (seq not an integer in
 * [0, SCN_CLOUD_SEQ_MAX] (inference: from 1), a score outside [0, 1], a
 * bearing outside [0, 360), a string empty or too long, retry_after
 * negative or above a day); SCN_ERR_TOO_DEEP; SCN_ERR_NOMEM;
 * SCN_ERR_INVALID_ARG. On error msg is left zeroed (except UNKNOWN).
 */
int scn__cloud_msg_decode(const char *text, size_t len, scn_cloud_msg *msg);

/*
 * Decodes a POST /v1/predict body: an inference object whose "seq" is
 * optional, or, for 4xx answers, an error object (msg->type tells which).
 * Returns as scn__cloud_msg_decode(); any other type is UNKNOWN_TYPE.
 */
int scn__cloud_predict_decode(const char *text, size_t len, scn_cloud_msg *msg);

/*
 * What an error message means for the client: the SCN_ERR_* code
 * ("quota" QUOTA, "revoked" KEY_REVOKED, "expired" KEY_EXPIRED,
 * "malformed" MALFORMED, "too_big" MESSAGE_TOO_BIG, "gone" NOT_FOUND,
 * anything else SERVER)
 * and whether the cloud ends the session after it (*ends_session, may be
 * NULL: quota, revoked, expired).
 */
int scn__cloud_error_classify(const scn_cloud_error *err, bool *ends_session);

#endif
