/* API keys: format, secret storage, key files, resolution order, redaction.
 * Key files live in a private mkdtemp directory under $TMPDIR (or /tmp). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "runner.h"

#include <scentience/api_key.h>
#include <scentience/error.h>
#include "key.h"

#define KEY "scn_live_0123456789abcdef"

typedef struct fixture {
    char dir[64];
    scn_secret *s;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    test_tmp_path(fx->dir, sizeof(fx->dir), "scn-key-test-XXXXXX");
    if (!mkdtemp(fx->dir) || scn__secret_new(&fx->s) != 0) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

/* Removes what the tests may have created; the names are fixed. */
static int teardown(void **state)
{
    static const char *const names[] = {"key",
                                        "sub/api-key",
                                        "sub",
                                        "scentience/api-key",
                                        "scentience",
                                        ".config/scentience/api-key",
                                        ".config/scentience",
                                        ".config",
                                        "fifo",
                                        "link"};
    fixture *fx = *state;
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fx->dir, names[i]);
        if (unlink(path) != 0)
            rmdir(path);
    }
    rmdir(fx->dir);
    scn__secret_free(fx->s);
    free(fx);
    return 0;
}

/* Writes len bytes to dir/name with mode; returns the path. */
static const char *put(fixture *fx, const char *name, const void *data,
                       size_t len, mode_t mode)
{
    static char path[128];
    int fd;

    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    unlink(path);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static const char *put_str(fixture *fx, const char *text, mode_t mode)
{
    return put(fx, "key", text, strlen(text), mode);
}

static void test_check_format(void **state)
{
    char buf[SCN_KEY_MAX + 2];

    (void)state;
    memset(buf, 'k', sizeof(buf));
    assert_int_equal(scn__key_check(buf, SCN_KEY_MIN - 1), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check(buf, SCN_KEY_MIN), 0);
    assert_int_equal(scn__key_check(buf, SCN_KEY_MAX), 0);
    assert_int_equal(scn__key_check(buf, SCN_KEY_MAX + 1), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("", 0), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check(NULL, 10), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd efgh", 9), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd\tefgh", 9), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcdefgh\r", 9), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd\nefgh", 9), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd\x7f"
                                    "efgh",
                                    9),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd\xc3\xa9"
                                    "efg",
                                    9),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("abcd\0efgh", 9), SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_check("!~#$%&'*+-._", 12), 0);
}

static void test_secret_lifecycle(void **state)
{
    fixture *fx = *state;
    scn_secret *s = fx->s;

    assert_string_equal(scn__secret_str(s), "");
    assert_int_equal(scn__secret_len(s), 0);
    assert_int_equal(scn__secret_set(s, KEY, strlen(KEY)), 0);
    assert_string_equal(scn__secret_str(s), KEY);
    assert_int_equal(scn__secret_len(s), strlen(KEY));
    /* A shorter key replaces the longer one completely. */
    assert_int_equal(scn__secret_set(s, "abcdefgh", 8), 0);
    assert_string_equal(scn__secret_str(s), "abcdefgh");
    assert_int_equal(memcmp(scn__secret_str(s) + 8, "\0\0\0\0", 4), 0);
    /* A bad key is refused and the current one kept. */
    assert_int_equal(scn__secret_set(s, "bad key!", 8), SCN_ERR_KEY_FORMAT);
    assert_string_equal(scn__secret_str(s), "abcdefgh");
    scn__secret_wipe(s);
    assert_string_equal(scn__secret_str(s), "");
    assert_int_equal(scn__secret_len(s), 0);
    assert_int_equal(scn__secret_str(s)[1], 0); /* the bytes, not just len */
    assert_string_equal(scn__secret_str(NULL), "");
    scn__secret_free(NULL);
}

/* The VmFlags line of the mapping holding addr in /proc/self/smaps, or
 * "" when there is none (no smaps, or a kernel without VmFlags). */
static void vmflags_of(uintptr_t addr, char *flags, size_t cap)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    char line[512];
    int in_map = 0;

    flags[0] = '\0';
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        unsigned long lo, hi;

        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') &&
            line[0] != 'V') {
            in_map = addr >= lo && addr < hi;
            continue;
        }
        if (in_map && strncmp(line, "VmFlags:", 8) == 0) {
            snprintf(flags, cap, "%s", line);
            break;
        }
    }
    fclose(f);
}

/* The page holding the key is excluded from core dumps: its VmFlags in
 * /proc/self/smaps carry "dd". A page of our own, madvised here, shows
 * whether this platform honours MADV_DONTDUMP and shows it at all (a
 * user-mode emulator such as qemu-user does not): only then can the check
 * run; otherwise it is skipped, visibly. */
static void test_secret_not_dumped(void **state)
{
    fixture *fx = *state;
    long page = sysconf(_SC_PAGESIZE);
    char flags[512];
    void *probe = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    assert_true(probe != MAP_FAILED);
    if (madvise(probe, (size_t)page, MADV_DONTDUMP) == 0)
        vmflags_of((uintptr_t)probe, flags, sizeof(flags));
    else
        flags[0] = '\0';
    munmap(probe, (size_t)page);
    if (!strstr(flags, " dd"))
        test_skip("test_secret_not_dumped: MADV_DONTDUMP is not honoured or "
                  "not visible in /proc/self/smaps here");

    vmflags_of((uintptr_t)scn__secret_str(fx->s), flags, sizeof(flags));
    assert_non_null(strstr(flags, "VmFlags:"));
    assert_non_null(strstr(flags, " dd"));
}

static void test_read_file_ok_and_stripping(void **state)
{
    fixture *fx = *state;

    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY, 0600)), 0);
    assert_string_equal(scn__secret_str(fx->s), KEY);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY "\n", 0600)), 0);
    assert_string_equal(scn__secret_str(fx->s), KEY);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY "\r\n", 0600)),
                     0);
    assert_string_equal(scn__secret_str(fx->s), KEY);
    assert_int_equal(
        scn__key_read_file(fx->s, put_str(fx, "  " KEY " \t\n", 0600)), 0);
    assert_string_equal(scn__secret_str(fx->s), KEY);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY, 0400)), 0);
}

static void test_read_file_format_errors(void **state)
{
    char big[SCN_KEY_MAX + 3];
    fixture *fx = *state;

    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, "", 0600)),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, "\n", 0600)),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, "short\n", 0600)),
                     SCN_ERR_KEY_FORMAT);
    /* Only one trailing newline is stripped. */
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY "\n\n", 0600)),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY "\r", 0600)),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(
        scn__key_read_file(fx->s, put_str(fx, "scn_live one two\n", 0600)),
        SCN_ERR_KEY_FORMAT);
    assert_int_equal(
        scn__key_read_file(fx->s, put_str(fx, "scn\x01live0123\n", 0600)),
        SCN_ERR_KEY_FORMAT);
    assert_int_equal(
        scn__key_read_file(fx->s, put(fx, "key", "scn_live\0xyz", 12, 0600)),
        SCN_ERR_KEY_FORMAT);

    /* SCN_KEY_MAX characters plus CRLF: accepted; one more: refused. */
    memset(big, 'k', sizeof(big));
    big[SCN_KEY_MAX] = '\r';
    big[SCN_KEY_MAX + 1] = '\n';
    assert_int_equal(
        scn__key_read_file(fx->s, put(fx, "key", big, SCN_KEY_MAX + 2, 0600)),
        0);
    assert_int_equal(scn__secret_len(fx->s), SCN_KEY_MAX);
    memset(big, 'k', sizeof(big));
    assert_int_equal(
        scn__key_read_file(fx->s, put(fx, "key", big, SCN_KEY_MAX + 1, 0600)),
        SCN_ERR_KEY_FORMAT);
    big[SCN_KEY_MAX] = '\r';
    big[SCN_KEY_MAX + 1] = '\n';
    assert_int_equal(
        scn__key_read_file(fx->s, put(fx, "key", big, SCN_KEY_MAX + 3, 0600)),
        SCN_ERR_KEY_FORMAT);
}

static void test_read_file_permissions(void **state)
{
    static const mode_t refused[] = {0644, 0640, 0604, 0660,       0620,
                                     0602, 0610, 0601, 0700 | 0070};
    fixture *fx = *state;
    char path[128];
    size_t i;

    for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        assert_int_equal(
            scn__key_read_file(fx->s, put_str(fx, KEY, refused[i])),
            SCN_ERR_KEY_FILE_PERMS);
        assert_string_equal(scn__secret_str(fx->s), "");
    }
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY, 0600)), 0);

    /* A directory is not a key file, whatever its mode. */
    snprintf(path, sizeof(path), "%s/sub", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(scn__key_read_file(fx->s, path), SCN_ERR_KEY_FILE_PERMS);
    /* Neither is a FIFO; opening it must not block. */
    snprintf(path, sizeof(path), "%s/fifo", fx->dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(scn__key_read_file(fx->s, path), SCN_ERR_KEY_FILE_PERMS);
    /* A symlink is judged by its target. */
    put_str(fx, KEY, 0600);
    snprintf(path, sizeof(path), "%s/link", fx->dir);
    assert_int_equal(symlink("key", path), 0);
    assert_int_equal(scn__key_read_file(fx->s, path), 0);
    chmod(put_str(fx, KEY, 0600), 0644);
    assert_int_equal(scn__key_read_file(fx->s, path), SCN_ERR_KEY_FILE_PERMS);
}

/* A broker password: spaces inside kept, short is fine, control
 * characters and an empty file refused, the same file checks. */
static void test_read_password_file(void **state)
{
    fixture *fx = *state;

    assert_int_equal(scn__password_read_file(fx->s, put_str(fx, "pw1\n", 0600)),
                     0);
    assert_string_equal(scn__secret_str(fx->s), "pw1");
    assert_int_equal(
        scn__password_read_file(fx->s, put_str(fx, " two words \r\n", 0600)),
        0);
    assert_string_equal(scn__secret_str(fx->s), "two words");
    assert_int_equal(scn__password_read_file(fx->s, put_str(fx, "\n", 0600)),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(
        scn__password_read_file(fx->s, put_str(fx, "a\x01b\n", 0600)),
        SCN_ERR_KEY_FORMAT);
    assert_int_equal(scn__password_read_file(fx->s, put_str(fx, "pw1\n", 0640)),
                     SCN_ERR_KEY_FILE_PERMS);
    /* The key rules still hold for keys. */
    assert_int_equal(scn__key_read_file(fx->s, put_str(fx, "pw1\n", 0600)),
                     SCN_ERR_KEY_FORMAT);
}

static void test_read_file_missing(void **state)
{
    fixture *fx = *state;
    char path[128];

    snprintf(path, sizeof(path), "%s/nope", fx->dir);
    assert_int_equal(scn__key_read_file(fx->s, path), SCN_ERR_KEY_FILE);
    snprintf(path, sizeof(path), "%s/nope/deeper", fx->dir);
    assert_int_equal(scn__key_read_file(fx->s, path), SCN_ERR_KEY_FILE);
    assert_int_equal(scn__key_read_file(fx->s, ""), SCN_ERR_KEY_FILE);
    assert_int_equal(scn__key_read_file(fx->s, NULL), SCN_ERR_KEY_FILE);
    if (geteuid() != 0) { /* root reads anything */
        assert_int_equal(scn__key_read_file(fx->s, put_str(fx, KEY, 0200)),
                         SCN_ERR_KEY_FILE);
    }
}

static void test_default_path(void **state)
{
    char buf[64];

    (void)state;
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), "/x/cfg", "/h"),
                     0);
    assert_string_equal(buf, "/x/cfg/scentience/api-key");
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), NULL, "/home/u"),
                     0);
    assert_string_equal(buf, "/home/u/.config/scentience/api-key");
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), "", "/home/u"), 0);
    assert_string_equal(buf, "/home/u/.config/scentience/api-key");
    /* A relative XDG_CONFIG_HOME is invalid per the XDG spec. */
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), "cfg", "/home/u"),
                     0);
    assert_string_equal(buf, "/home/u/.config/scentience/api-key");
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), NULL, NULL),
                     SCN_ERR_NOT_FOUND);
    assert_int_equal(scn__key_default_path(buf, sizeof(buf), "", ""),
                     SCN_ERR_NOT_FOUND);
    /* "/a/scentience/api-key" is 21 characters: 22 bytes fit, 21 do not. */
    assert_int_equal(scn__key_default_path(buf, 22, "/a", NULL), 0);
    assert_string_equal(buf, "/a/scentience/api-key");
    assert_int_equal(scn__key_default_path(buf, 21, "/a", NULL), SCN_ERR_NOMEM);
}

static void test_resolve_order(void **state)
{
    fixture *fx = *state;
    const char *src = "unset";
    const char *file = put_str(fx, "from-the-file-1234\n", 0600);
    char path[128];

    snprintf(path, sizeof(path), "%s", file);
    /* Option beats environment beats file. */
    assert_int_equal(scn__key_resolve(fx->s, "from-the-option-1234",
                                      "from-the-env-1234", path, NULL, NULL,
                                      &src),
                     0);
    assert_string_equal(scn__secret_str(fx->s), "from-the-option-1234");
    assert_string_equal(src, "option");
    assert_int_equal(scn__key_resolve(fx->s, "", "from-the-env-1234", path,
                                      NULL, NULL, &src),
                     0);
    assert_string_equal(scn__secret_str(fx->s), "from-the-env-1234");
    assert_string_equal(src, "environment");
    assert_int_equal(scn__key_resolve(fx->s, NULL, "", path, NULL, NULL, &src),
                     0);
    assert_string_equal(scn__secret_str(fx->s), "from-the-file-1234");
    assert_string_equal(src, "file");

    /* A malformed higher source is an error, not a reason to fall back. */
    assert_int_equal(scn__key_resolve(fx->s, "bad key", "from-the-env-1234",
                                      path, NULL, NULL, &src),
                     SCN_ERR_KEY_FORMAT);
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, "short", path, NULL, NULL, &src),
        SCN_ERR_KEY_FORMAT);
    assert_null(src);
}

static void test_resolve_files(void **state)
{
    fixture *fx = *state;
    const char *src = "unset";
    char path[128], home[128];

    /* An explicit key file that is missing or too open is reported. */
    snprintf(path, sizeof(path), "%s/missing", fx->dir);
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, path, NULL, NULL, &src),
        SCN_ERR_KEY_FILE);
    snprintf(path, sizeof(path), "%s", put_str(fx, KEY, 0644));
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, path, NULL, NULL, &src),
        SCN_ERR_KEY_FILE_PERMS);

    /* No default location at all, or nothing there: no key. */
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, NULL, NULL, NULL, &src),
        SCN_ERR_NO_KEY);
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, NULL, fx->dir, NULL, &src),
        SCN_ERR_NO_KEY);

    /* $XDG_CONFIG_HOME/scentience/api-key. */
    snprintf(path, sizeof(path), "%s/scentience", fx->dir);
    assert_int_equal(mkdir(path, 0700), 0);
    put(fx, "scentience/api-key", "xdg-key-123456\n", 15, 0600);
    assert_int_equal(scn__key_resolve(fx->s, NULL, NULL, NULL, fx->dir,
                                      "/nonexistent", &src),
                     0);
    assert_string_equal(scn__secret_str(fx->s), "xdg-key-123456");
    assert_string_equal(src, "file");
    /* A default file with bad permissions is an error, not "no key". */
    chmod(put(fx, "scentience/api-key", "xdg-key-123456\n", 15, 0600), 0640);
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, NULL, fx->dir, NULL, &src),
        SCN_ERR_KEY_FILE_PERMS);

    /* $HOME/.config/scentience/api-key. */
    snprintf(home, sizeof(home), "%s/.config", fx->dir);
    assert_int_equal(mkdir(home, 0700), 0);
    snprintf(home, sizeof(home), "%s/.config/scentience", fx->dir);
    assert_int_equal(mkdir(home, 0700), 0);
    put(fx, ".config/scentience/api-key", "home-key-123456", 15, 0600);
    assert_int_equal(
        scn__key_resolve(fx->s, NULL, NULL, NULL, NULL, fx->dir, &src), 0);
    assert_string_equal(scn__secret_str(fx->s), "home-key-123456");
}

static void test_redact(void **state)
{
    char out[SCN_KEY_REDACTED_SIZE];
    char key[58]; /* 'A'..'z': every character distinct */
    size_t len;

    (void)state;
    scn__key_redact(KEY, strlen(KEY), out);
    assert_string_equal(out, "****cdef");
    scn__key_redact("abcdefghijkl", 12, out);
    assert_string_equal(out, "****ijkl");
    scn__key_redact("abcdefghijk", 11, out);
    assert_string_equal(out, "****");
    scn__key_redact("", 0, out);
    assert_string_equal(out, "****");
    scn__key_redact(NULL, 20, out);
    assert_string_equal(out, "****");

    /* For every length, at most the last four characters show. Distinct
     * characters make any other leak visible. */
    for (len = 0; len < sizeof(key); len++) {
        size_t i, shown;

        for (i = 0; i < len; i++)
            key[i] = (char)('A' + i);
        scn__key_redact(key, len, out);
        assert_true(strlen(out) < SCN_KEY_REDACTED_SIZE);
        assert_memory_equal(out, "****", 4);
        shown = strlen(out) - 4;
        assert_true(shown == 0 || shown == 4);
        if (len < 12)
            assert_int_equal(shown, 0);
        else
            assert_memory_equal(out + 4, key + len - 4, 4);
        for (i = 0; i + 4 < len; i++)
            assert_null(memchr(out + 4, key[i], shown));
    }
}

/* The application's key: environment first, then the file; a bad file is
 * an error with nothing loaded; equality and redaction without the key. */
static void test_api_key(void **state)
{
    fixture *fx = *state;
    scn_api_key *a = NULL, *b = NULL, *c = NULL;
    const char *path;
    char *saved = getenv("SCENTIENCE_API_KEY");

    saved = saved ? strdup(saved) : NULL;
    unsetenv("SCENTIENCE_API_KEY");
    path = put_str(fx, KEY "\n", 0600);
    assert_int_equal(scn_api_key_load(path, &a), 0);
    assert_string_equal(scn_api_key_text(a), KEY);
    assert_string_equal(scn_api_key_source(a), "file");
    assert_string_equal(scn_api_key_redacted(a), "****cdef");
    assert_int_equal(scn_api_key_load(path, &b), 0);
    assert_true(scn_api_key_equal(a, b));
    scn_api_key_free(b);

    path = put_str(fx, "scn_live_other_key_9876", 0600);
    assert_int_equal(scn_api_key_load(path, &b), 0);
    assert_false(scn_api_key_equal(a, b));
    assert_string_equal(scn_api_key_redacted(b), "****9876");

    path = put_str(fx, "not a key", 0600);
    c = (scn_api_key *)1;
    assert_int_equal(scn_api_key_load(path, &c), SCN_ERR_KEY_FORMAT);
    assert_null(c);
    path = put_str(fx, KEY, 0644);
    assert_int_equal(scn_api_key_load(path, &c), SCN_ERR_KEY_FILE_PERMS);
    unlink(path);
    assert_int_equal(scn_api_key_load(path, &c), SCN_ERR_KEY_FILE);

    setenv("SCENTIENCE_API_KEY", "scn_env_key_00001111", 1);
    assert_int_equal(scn_api_key_load(path, &c), 0);
    assert_string_equal(scn_api_key_source(c), "environment");
    assert_string_equal(scn_api_key_redacted(c), "****1111");
    scn_api_key_free(c);
    if (saved)
        setenv("SCENTIENCE_API_KEY", saved, 1);
    else
        unsetenv("SCENTIENCE_API_KEY");
    free(saved);

    assert_false(scn_api_key_equal(a, NULL));
    assert_string_equal(scn_api_key_redacted(NULL), "");
    scn_api_key_free(a);
    scn_api_key_free(b);
    scn_api_key_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check_format),
        cmocka_unit_test_setup_teardown(test_secret_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_not_dumped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_file_ok_and_stripping, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_file_format_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_file_permissions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_file_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_read_password_file, setup,
                                        teardown),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test_setup_teardown(test_resolve_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resolve_files, setup, teardown),
        cmocka_unit_test(test_redact),
        cmocka_unit_test_setup_teardown(test_api_key, setup, teardown),
    };

    return test_exit_code(cmocka_run_group_tests(tests, NULL, NULL));
}
