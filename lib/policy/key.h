/*
 * API keys: where they come from, how they are held and how they may be
 * shown. A key lives only in an scn_secret: a page excluded from core dumps
 * (MADV_DONTDUMP), locked in memory when allowed, wiped before release.
 */
#ifndef SCN_KEY_H
#define SCN_KEY_H

#include <stddef.h>

#define SCN_KEY_MAX           512 /* bytes, without NUL */
#define SCN_KEY_MIN           8
#define SCN_KEY_REDACTED_SIZE 16

typedef struct scn_secret scn_secret;

/* Returns 0 or SCN_ERR_NOMEM. */
int scn__secret_new(scn_secret **out);
/* Wipes and releases; NULL allowed. */
void scn__secret_free(scn_secret *s);
/* Copies text[0..len) in (wiping what was there). Returns 0,
 * SCN_ERR_KEY_FORMAT (see scn__key_check). */
int scn__secret_set(scn_secret *s, const char *text, size_t len);
void scn__secret_wipe(scn_secret *s);
const char *scn__secret_str(const scn_secret *s); /* "" when empty */
size_t scn__secret_len(const scn_secret *s);

/* A key is SCN_KEY_MIN..SCN_KEY_MAX printable ASCII characters without
 * spaces (it goes into an HTTP header). Returns 0 or SCN_ERR_KEY_FORMAT. */
int scn__key_check(const char *text, size_t len);

/* Reads a key file into dst: refuses a file that is not a regular file or
 * that group or others may read or write (SCN_ERR_KEY_FILE_PERMS), reads at
 * most SCN_KEY_MAX + 2 bytes, strips one trailing newline (LF or CRLF) and
 * surrounding spaces. Returns 0, SCN_ERR_KEY_FILE (missing, unreadable),
 * SCN_ERR_KEY_FILE_PERMS, SCN_ERR_KEY_FORMAT. The read buffer is wiped. */
int scn__key_read_file(scn_secret *dst, const char *path);

/* A password (an MQTT broker's) is 1..SCN_KEY_MAX bytes without control
 * characters; spaces are allowed. Returns 0 or SCN_ERR_KEY_FORMAT. */
int scn__password_check(const char *text, size_t len);
/* scn__key_read_file for a password file: the same file checks, trimming
 * and wiping, the password's format. */
int scn__password_read_file(scn_secret *dst, const char *path);

/* Default key file: $XDG_CONFIG_HOME/scentience/api-key, else
 * $HOME/.config/scentience/api-key. Inputs are the variables' values (may
 * be NULL; empty or, for XDG, relative values count as unset, as the XDG
 * spec says). Returns 0, SCN_ERR_NOT_FOUND (neither set), SCN_ERR_NOMEM
 * (cap too small). */
int scn__key_default_path(char *buf, size_t cap, const char *xdg_config_home,
                          const char *home);

/* Resolves the key in order: option_key (non-NULL, non-empty), env_value
 * ($SCENTIENCE_API_KEY, non-empty), then key_file (NULL: the default path).
 * The first source present decides: a malformed one is an error, not a
 * reason to try the next. Returns 0, SCN_ERR_NO_KEY (none of them present;
 * a missing default file counts as absent, a missing key_file is
 * SCN_ERR_KEY_FILE), or the file and format errors above. *source (may be
 * NULL) receives "option", "environment" or "file", NULL on error. */
int scn__key_resolve(scn_secret *dst, const char *option_key,
                     const char *env_value, const char *key_file,
                     const char *xdg_config_home, const char *home,
                     const char **source);

/* "****" + the last four characters ("****" alone for keys shorter than
 * 12 characters, so that a short key is not mostly revealed). */
void scn__key_redact(const char *key, size_t len,
                     char out[SCN_KEY_REDACTED_SIZE]);

#endif
