/*
 * "key = value" configuration files (scn-companion --config and
 * --check-config): one setting per line, '#' starts a comment, spaces and
 * tabs around keys and values are ignored, a key alone means an empty
 * value. Reading is separate from what a key means: the program's
 * callback applies each setting.
 */
#ifndef SCN_APP_CONFIG_FILE_H
#define SCN_APP_CONFIG_FILE_H

#include <stddef.h>

/* Longest line, in bytes, without its line end. */
#define CFG_LINE_MAX 1023
/* Largest file read. */
#define CFG_FILE_MAX (1u << 20)

/* Applies one setting: returns 0, or -1 with a sentence in why ("unknown
 * setting 'x'"). key and value are valid only during the call. */
typedef int (*cfg_setting_fn)(const char *key, const char *value, void *user,
                              char *why, size_t why_cap);

/* One problem: its line (1-based; 0 for the file as a whole) and what. */
typedef void (*cfg_problem_fn)(unsigned line, const char *what, void *user);

/*
 * Reads text[0..len): every setting goes to setting, in file order, and
 * every problem to problem, and reading goes on with the next line, so
 * that all of them are reported. Problems: a line longer than CFG_LINE_MAX
 * (it used to be split, and its tail read as a setting of its own), a NUL
 * or other control byte (tab aside; a CR only before the line end), an
 * empty key before '=', and whatever setting refuses. Returns how many
 * problems there were.
 */
unsigned cfg_parse(const char *text, size_t len, cfg_setting_fn setting,
                   void *setting_user, cfg_problem_fn problem,
                   void *problem_user);

/* Reads path (at most CFG_FILE_MAX bytes) and parses it; a file that
 * cannot be read is one problem (line 0) that names the cause. */
unsigned cfg_read_file(const char *path, cfg_setting_fn setting,
                       void *setting_user, cfg_problem_fn problem,
                       void *problem_user);

#endif
