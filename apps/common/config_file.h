/*
 * "key = value" configuration files (scn-companion --config): one setting
 * per line, '#' starts a comment, spaces and tabs around keys and values
 * are ignored, a key alone means an empty value. Parsing is separate from
 * what a key means: the program's callback applies each setting.
 */
#ifndef SCN_APP_CONFIG_FILE_H
#define SCN_APP_CONFIG_FILE_H

#include <stddef.h>

/* Longest line, in bytes, without its line end. */
#define CFG_LINE_MAX 1023
/* Largest file read. */
#define CFG_FILE_MAX (1u << 20)

/* Applies one setting; returns NULL, or why it was refused (a short
 * phrase: "unknown setting", "invalid value"). key and value are valid
 * only during the call. */
typedef const char *(*cfg_setting_fn)(const char *key, const char *value,
                                      void *user);

/*
 * Parses text[0..len) and hands every setting to fn, in file order.
 * Refused, with nothing applied after it: a line longer than CFG_LINE_MAX
 * (it would otherwise be split and its tail read as a setting of its own),
 * a NUL or other control byte (tab aside; a CR only before the line end),
 * an empty key before '=', and whatever fn refuses. Returns 0, or -1 with
 * "line N: ..." in err.
 */
int cfg_parse(const char *text, size_t len, cfg_setting_fn fn, void *user,
              char *err, size_t err_cap);

/* Reads path (at most CFG_FILE_MAX bytes) and parses it; err names the
 * cause when the file cannot be read. */
int cfg_read_file(const char *path, cfg_setting_fn fn, void *user, char *err,
                  size_t err_cap);

#endif
