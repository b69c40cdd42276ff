/* Key tables: every kind of bad input is an error naming the line and key, defaults apply,
 * units are read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/core/cfg.h"
#include "sim/core/time.h"

typedef struct cfg {
    int n;
    double rate;
    bool flag;
    char name[8];
    uint64_t mem;
    ss_time_ns dt;
    int color;
    yaml_node_t *sub;
} cfg;

static const char *const colors[] = {"red", "green", NULL};
static const ss_key keys[] = {
    {"n", SS_KEY_INT, offsetof(cfg, n), 0, NULL, 1, 100, 0, NULL, "required int", NULL},
    {"rate", SS_KEY_DOUBLE, offsetof(cfg, rate), 0, "2.5", 0, 1e9, SS_KEY_MIN_EXCL, "req/s", "rate", NULL},
    {"flag", SS_KEY_BOOL, offsetof(cfg, flag), 0, "false", 0, 0, 0, NULL, "flag", NULL},
    {"name", SS_KEY_STRING, offsetof(cfg, name), 8, "abc", 0, 0, 0, NULL, "name", NULL},
    {"mem", SS_KEY_BYTES, offsetof(cfg, mem), 0, "1GiB", 0, 1e15, 0, "bytes", "mem", NULL},
    {"dt", SS_KEY_DURATION, offsetof(cfg, dt), 0, "1s", 0, 1e6, 0, "s", "dt", NULL},
    {"color", SS_KEY_ENUM, offsetof(cfg, color), 0, "green", 0, 0, 0, NULL, "color", colors},
    {"sub", SS_KEY_NODE, offsetof(cfg, sub), 0, "", 0, 0, 0, NULL, "sub", NULL},
    {NULL, 0, 0, 0, NULL, 0, 0, 0, NULL, NULL, NULL},
};

static ss_rc apply(const char *text, cfg *c, ss_diag *d)
{
    ss_doc *doc;
    ss_diag_clear(d);
    memset(c, 0, sizeof *c);
    ss_rc rc = ss_doc_load_string("t.yaml", text, strlen(text), &doc, d);
    if (rc) return rc;
    rc = ss_cfg_apply(doc, ss_doc_root(doc), NULL, "", keys, c, d);
    ss_doc_free(doc);
    return rc;
}

static void expect_error(const char *text, int line, const char *key, const char *msg_part)
{
    cfg c;
    ss_diag d;
    ss_rc rc = apply(text, &c, &d);
    if (rc == SS_OK) fail_msg("accepted: %s", text);
    char buf[2048];
    ss_diag_format(&d, buf, sizeof buf);
    if (d.line != line) fail_msg("line %d, want %d: %s", d.line, line, buf);
    if (key && strcmp(d.key, key)) fail_msg("key '%s', want '%s': %s", d.key, key, buf);
    if (msg_part && !strstr(buf, msg_part)) fail_msg("'%s' not in: %s", msg_part, buf);
    assert_string_equal(d.file, "t.yaml");
}

/* Key paths read back what ss_doc_set writes; anything not in the document is NULL. */
static void test_doc_get(void **st)
{
    (void)st;
    static const char text[] = "a:\n  b: 1\n  l:\n    - x: 2\n    - [3, 4]\nc: z\n";
    ss_doc *doc;
    ss_diag d;
    assert_int_equal(ss_doc_load_string("t.yaml", text, strlen(text), &doc, &d), SS_OK);
    assert_string_equal(ss_node_scalar(ss_doc_get(doc, "a.b")), "1");
    assert_string_equal(ss_node_scalar(ss_doc_get(doc, "a.l[0].x")), "2");
    assert_string_equal(ss_node_scalar(ss_doc_get(doc, "a.l[1][1]")), "4");
    assert_string_equal(ss_node_scalar(ss_doc_get(doc, "c")), "z");
    assert_non_null(ss_doc_get(doc, "a.l"));
    static const char *const absent[] = {"a.q", "a.l[2].x", "a.b.c", "c[0]", "a..b", "a.",
                                         "a.l[x]", "a.l[0]x", ""};
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        if (ss_doc_get(doc, absent[i]) && absent[i][0]) fail_msg("found '%s'", absent[i]);
    assert_int_equal(ss_doc_set(doc, "a.l[0].x", "5", &d), SS_OK);
    assert_string_equal(ss_node_scalar(ss_doc_get(doc, "a.l[0].x")), "5");
    ss_doc_free(doc);
}

static void test_defaults_and_units(void **st)
{
    (void)st;
    cfg c;
    ss_diag d;
    assert_int_equal(apply("n: 3\nmem: 80 GiB\ndt: 150ms\ncolor: red\nflag: true\n", &c, &d), SS_OK);
    assert_int_equal(c.n, 3);
    assert_true(c.rate == 2.5);
    assert_true(c.flag);
    assert_string_equal(c.name, "abc");
    assert_true(c.mem == 85899345920ULL);
    assert_true(c.dt == 150000000);
    assert_int_equal(c.color, 0);
    assert_null(c.sub);
    assert_int_equal(apply("n: 1e1\nmem: 512MB\ndt: 2\n", &c, &d), SS_OK);
    assert_int_equal(c.n, 10);
    assert_true(c.mem == 512000000ULL);
    assert_true(c.dt == 2 * SS_NS_PER_S);
}

static void test_errors(void **st)
{
    (void)st;
    expect_error("n: 3\nrat: 2\n", 2, "rat", "unknown key");
    expect_error("n: 3\nrate: fast\n", 2, "rate", "expected a number");
    expect_error("n: 3\nrate: -1\n", 2, "rate", "out of range");
    expect_error("n: 3\nrate: 0\n", 2, "rate", "must be >");
    expect_error("rate: 1\n", 1, "n", "missing required key");
    expect_error("n: 3\nn: 4\n", 2, "n", "duplicate");
    expect_error("n: 3.5\n", 1, "n", "integer");
    expect_error("n: 101\n", 1, "n", "out of range");
    expect_error("n: 3\nflag: maybe\n", 2, "flag", "true or false");
    expect_error("n: 3\nname: toolongname\n", 2, "name", "too long");
    expect_error("n: 3\nmem: 5 parsecs\n", 2, "mem", "unknown size unit");
    expect_error("n: 3\ndt: 5 fortnights\n", 2, "dt", "unknown time unit");
    expect_error("n: 3\ncolor: blue\n", 2, "color", "red, green");
    expect_error("n: [1, 2]\n", 1, "n", "got a list");
    expect_error("n: 3\nrate:\n", 2, "rate", "missing value");
    expect_error("- 1\n- 2\n", 1, NULL, "expected a mapping");
    expect_error("n: 3\n  bad: indent\n", 2, NULL, "YAML syntax error");
}

static void test_missing_file(void **st)
{
    (void)st;
    ss_doc *doc;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_doc_load_file("/nonexistent/x.yaml", &doc, &d), SS_ERR_IO);
    assert_string_equal(d.file, "/nonexistent/x.yaml");
    assert_non_null(strstr(d.msg, "cannot open"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_units),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_doc_get),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
