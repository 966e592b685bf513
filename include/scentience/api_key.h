/**
 * @file
 *
 * An API key held by the application, for programs that resolve the key
 * once and hand it to several sessions, and that re-read it on demand
 * (scn-companion on SIGHUP) instead of at every connection attempt.
 *
 * The key is resolved like a session resolves it without the api_key
 * option: $SCENTIENCE_API_KEY, then the key file (docs/PROTOCOL.md section
 * 7). It lives in a page kept out of core dumps (and out of swap where the
 * system allows) and is wiped when freed. Show only its redacted form:
 * scn_api_key_text() exists to be passed as scn_session_options.api_key
 * (which copies it), never to be printed.
 */
#ifndef SCENTIENCE_API_KEY_H
#define SCENTIENCE_API_KEY_H

#include <scentience/common.h>

#ifdef __cplusplus
extern "C" {
#endif

/** A resolved API key, held in memory excluded from core dumps (opaque). */
typedef struct scn_api_key scn_api_key;

/** Resolves and checks the key: $SCENTIENCE_API_KEY when set and non-empty,
 * else key_file (NULL: the default file). Returns 0, SCN_ERR_NO_KEY,
 * SCN_ERR_KEY_FILE, SCN_ERR_KEY_FILE_PERMS, SCN_ERR_KEY_FORMAT,
 * SCN_ERR_NOMEM; *out is NULL on error. */
SCN_API int scn_api_key_load(const char *key_file, scn_api_key **out);
/** Wipes and frees; NULL allowed. */
SCN_API void scn_api_key_free(scn_api_key *k);
/** The key itself: for scn_session_options.api_key only. */
SCN_API const char *scn_api_key_text(const scn_api_key *k);
/** "****" plus the last four characters (section 7). */
SCN_API const char *scn_api_key_redacted(const scn_api_key *k);
/** Where it came from: "environment" or "file". */
SCN_API const char *scn_api_key_source(const scn_api_key *k);
/** 1 when both hold the same key (compared in constant time), else 0. */
SCN_API int scn_api_key_equal(const scn_api_key *a, const scn_api_key *b);

#ifdef __cplusplus
}
#endif

#endif
