/*
 * A locale whose decimal point is a comma, for the tests that show an
 * application's LC_NUMERIC changes no number the library reads or writes.
 */
#ifndef SCN_TEST_COMMA_LOCALE_H
#define SCN_TEST_COMMA_LOCALE_H

/* Sets LC_NUMERIC to de_DE or fr_FR (UTF-8) and returns its name; without
 * one installed, restores "C" and fails the test (scripts/install-deps
 * generates de_DE.UTF-8): the comma paths must run, not pass vacuously. */
const char *test_comma_locale(void);

#endif
