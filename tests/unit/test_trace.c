/* Trace readers (workloads/trace.h): every format on small hand-written fixtures, plain and
 * gzip; exact nanosecond parsing; times relative to the first row; one test per class of
 * malformed input with the exact line and field named; lenient skip counts; format
 * detection; limits (long lines, truncated gzip, NUL bytes); and, when ../shared/data is
 * there, the full real traces end to end against the row counts of its README.
 *
 * Runs from the repository root (fixtures in tests/data/traces/). Error cases that need no
 * fixture of their own are written to a private temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "workloads/trace.h"

#define FIX "tests/data/traces/"

/*============================================================ helpers */

typedef struct rowcopy {
    ss_trace_row r;
    uint64_t h[4]; /* first hashes (fixtures have at most 3) */
} rowcopy;

/* Read a whole trace; returns the number of rows (at most max kept), *rc the final status
 * (0 at a clean end), d the error. */
static size_t read_all(const char *path, int fmt, const ss_trace_opts *o, rowcopy *rows,
                       size_t max, int *rc, ss_diag *d, ss_trace_format *got_fmt,
                       uint64_t *skipped)
{
    ss_trace *t = NULL;
    ss_diag_clear(d);
    *rc = ss_trace_open(path, fmt, o, &t, d);
    if (*rc != SS_OK) {
        assert_null(t);
        return 0;
    }
    assert_non_null(t);
    if (got_fmt) *got_fmt = ss_trace_get_format(t);
    size_t n = 0;
    ss_trace_row r;
    int k;
    while ((k = ss_trace_next(t, &r, d)) == 1) {
        if (n < max) {
            rows[n].r = r;
            for (uint32_t i = 0; i < r.nhashes && i < 4; i++) rows[n].h[i] = r.hashes[i];
        }
        n++;
    }
    *rc = k;
    assert_int_equal(ss_trace_rows(t), n);
    if (skipped) *skipped = ss_trace_skipped(t);
    ss_trace_close(t);
    return n;
}

static void expect_msg(const ss_diag *d, const char *path, int line, const char *sub)
{
    char buf[2048];
    ss_diag_format(d, buf, sizeof buf);
    if (!strstr(buf, sub) || d->line != line || strcmp(d->file, path) != 0)
        fail_msg("got \"%s\" (line %d)\nwant line %d and \"%s\"", buf, d->line, line, sub);
}

static char tmpdir[256];

static int setup_tmp(void **state)
{
    (void)state;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/ss_trace_XXXXXX", base && *base ? base : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmp(void **state)
{
    (void)state;
    char p[512];
    static const char *const names[] = {"case.csv", "case.jsonl", "long.csv", "many.csv"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", tmpdir, names[i]);
        unlink(p);
    }
    rmdir(tmpdir);
    return 0;
}

/* Write n bytes to tmpdir/name; returns the path (static buffer). */
static const char *write_tmp(const char *name, const char *data, size_t n)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
    return p;
}

#define W(name, str) write_tmp(name, str, strlen(str))

/*============================================================ names */

static void test_format_names(void **state)
{
    (void)state;
    static const char *const want[] = {"native", "azure", "mooncake", "lengths"};
    for (int i = 0; i < SS_TRACE_FORMAT_COUNT; i++) {
        assert_string_equal(ss_trace_format_name((ss_trace_format)i), want[i]);
        assert_int_equal(ss_trace_format_from_name(want[i]), i);
    }
    assert_int_equal(ss_trace_format_from_name("Azure"), -1);
    assert_int_equal(ss_trace_format_from_name(""), -1);
    assert_int_equal(ss_trace_format_from_name(NULL), -1);
    assert_string_equal(ss_trace_format_name(SS_TRACE_FORMAT_COUNT), "?");
    ss_trace_opts o = ss_trace_opts_defaults();
    assert_int_equal(o.lenient, 0);
    assert_int_equal(o.require_sorted, 1);
}

/*============================================================ good files */

static void check_native_full(const char *path)
{
    rowcopy r[8];
    int rc;
    ss_diag d;
    ss_trace_format f;
    size_t n = read_all(path, -1, NULL, r, 8, &rc, &d, &f, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_NATIVE);
    assert_int_equal(n, 5);
    /* line 2: 0,512,20,chat,7,11 12,256 */
    assert_int_equal(r[0].r.line, 2);
    assert_int_equal(r[0].r.has_time, 1);
    assert_int_equal(r[0].r.t, 0);
    assert_int_equal(r[0].r.prompt_tokens, 512);
    assert_int_equal(r[0].r.output_tokens, 20);
    assert_string_equal(r[0].r.cls, "chat");
    assert_int_equal(r[0].r.prefix_id, 7);
    assert_int_equal(r[0].r.nhashes, 2);
    assert_int_equal(r[0].h[0], 11);
    assert_int_equal(r[0].h[1], 12);
    assert_int_equal(r[0].r.hash_block_tokens, 256);
    /* line 3: 0.000000001 s is exactly 1 ns; empty optional fields */
    assert_int_equal(r[1].r.t, 1);
    assert_string_equal(r[1].r.cls, "");
    assert_int_equal(r[1].r.prefix_id, -1);
    assert_int_equal(r[1].r.nhashes, 0);
    assert_null(r[1].r.hashes);
    assert_int_equal(r[1].r.hash_block_tokens, 0);
    /* line 4: 1234.5 s exactly; the largest uint64 hash */
    assert_int_equal(r[2].r.t, INT64_C(1234500000000));
    assert_int_equal(r[2].r.output_tokens, 4096);
    assert_int_equal(r[2].r.nhashes, 3);
    assert_true(r[2].h[2] == UINT64_MAX);
    assert_int_equal(r[2].r.hash_block_tokens, 100);
    /* line 5: equal time is allowed; prefix_id 0 */
    assert_int_equal(r[3].r.t, INT64_C(1234500000000));
    assert_int_equal(r[3].r.prefix_id, 0);
    /* line 6: 18446744.073709551 s, every digit kept; the largest prefix_id */
    assert_int_equal(r[4].r.line, 6);
    assert_int_equal(r[4].r.t, INT64_C(18446744073709551));
    assert_string_equal(r[4].r.cls, "a.b-c_d:e/f");
    assert_true(r[4].r.prefix_id == INT64_MAX);
    assert_int_equal(r[4].r.hash_block_tokens, 16);
}

static void test_native_full(void **state)
{
    (void)state;
    check_native_full(FIX "native_full.csv");
    check_native_full(FIX "native_full.csv.gz");
}

/* Required columns only, in another order, CRLF line endings, first row at 100.25 s. */
static void test_native_min_crlf(void **state)
{
    (void)state;
    rowcopy r[4];
    int rc;
    ss_diag d;
    size_t n = read_all(FIX "native_min.csv", SS_TRACE_NATIVE, NULL, r, 4, &rc, &d, NULL, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 3);
    static const int64_t t[] = {0, 250000000, 750000000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].r.t, t[i]);
        assert_int_equal(r[i].r.prompt_tokens, 10 + i);
        assert_int_equal(r[i].r.output_tokens, 5 + i);
        assert_int_equal(r[i].r.line, 2 + i);
    }
}

static void check_az2023_small(const char *path)
{
    rowcopy r[8];
    int rc;
    ss_diag d;
    ss_trace_format f;
    size_t n = read_all(path, -1, NULL, r, 8, &rc, &d, &f, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_AZURE);
    assert_int_equal(n, 7); /* the last line has no newline and is still a row */
    /* Seven fractional digits, across midnight, a leap day and a month end. */
    static const int64_t want[] = {0,
                                   100,
                                   INT64_C(20576541870800),
                                   INT64_C(20576541870900),
                                   INT64_C(9006176541870800),
                                   INT64_C(9006176541871000),
                                   INT64_C(9092576541870900)};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(r[i].r.t, want[i]);
        assert_int_equal(r[i].r.has_time, 1);
        assert_int_equal(r[i].r.line, i + 2);
        assert_int_equal(r[i].r.nhashes, 0);
        assert_int_equal(r[i].r.prefix_id, -1);
    }
    assert_int_equal(r[0].r.prompt_tokens, 1200);
    assert_int_equal(r[0].r.output_tokens, 31);
    assert_int_equal(r[6].r.prompt_tokens, 1);
}

static void test_az2023_small(void **state)
{
    (void)state;
    check_az2023_small(FIX "az2023_small.csv");
    check_az2023_small(FIX "az2023_small.csv.gz");
}

static void check_mc25_small(const char *path)
{
    rowcopy r[8];
    int rc;
    ss_diag d;
    ss_trace_format f;
    size_t n = read_all(path, -1, NULL, r, 8, &rc, &d, &f, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_MOONCAKE);
    assert_int_equal(n, 4);
    /* ms → ns exactly, relative to the first row (1000 ms). */
    assert_int_equal(r[0].r.t, 0);
    assert_int_equal(r[1].r.t, 7000000);
    assert_int_equal(r[2].r.t, 7000000);
    assert_int_equal(r[3].r.t, INT64_C(3600001000000));
    assert_int_equal(r[0].r.line, 1);
    assert_int_equal(r[0].r.prompt_tokens, 1000);
    assert_int_equal(r[0].r.output_tokens, 10);
    assert_int_equal(r[0].r.nhashes, 2);
    assert_int_equal(r[0].h[1], 1);
    assert_int_equal(r[1].h[1], 2);
    assert_int_equal(r[2].r.nhashes, 0);
    assert_int_equal(r[3].h[0], INT64_C(9007199254740991));
    for (int i = 0; i < 4; i++) assert_int_equal(r[i].r.hash_block_tokens, 512);
}

static void test_mc25_small(void **state)
{
    (void)state;
    check_mc25_small(FIX "mc25_small.jsonl");
    check_mc25_small(FIX "mc25_small.jsonl.gz");
}

static void check_lengths_small(const char *path)
{
    rowcopy r[4];
    int rc;
    ss_diag d;
    ss_trace_format f;
    size_t n = read_all(path, -1, NULL, r, 4, &rc, &d, &f, NULL);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_LENGTHS);
    assert_int_equal(n, 3);
    static const uint32_t p[] = {3000, 7, 1}, o[] = {50, 3, 1};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].r.has_time, 0);
        assert_int_equal(r[i].r.t, 0);
        assert_int_equal(r[i].r.prompt_tokens, p[i]);
        assert_int_equal(r[i].r.output_tokens, o[i]);
    }
}

static void test_lengths_small(void **state)
{
    (void)state;
    check_lengths_small(FIX "lengths_small.csv");
    check_lengths_small(FIX "lengths_small.csv.gz");
}

/* Good inputs that exercise the edges: header-only files, optional columns absent, any
 * column order, a UTF-8 byte-order mark, unsorted input allowed by the option. */
static void test_good_edges(void **state)
{
    (void)state;
    rowcopy r[4];
    int rc;
    ss_diag d;
    ss_trace_format f;
    const char *p = W("case.csv", "arrival_s,prompt_tokens,output_tokens\n");
    assert_int_equal(read_all(p, -1, NULL, r, 4, &rc, &d, &f, NULL), 0);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_NATIVE);
    p = W("case.csv", "num_decode_tokens,num_prefill_tokens\n5,6\n");
    assert_int_equal(read_all(p, -1, NULL, r, 4, &rc, &d, &f, NULL), 1);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_LENGTHS);
    assert_int_equal(r[0].r.prompt_tokens, 6);
    assert_int_equal(r[0].r.output_tokens, 5);
    p = W("case.csv", "GeneratedTokens,TIMESTAMP,ContextTokens\n3,2023-01-01 00:00:00,4\n");
    assert_int_equal(read_all(p, -1, NULL, r, 4, &rc, &d, &f, NULL), 1);
    assert_int_equal(rc, 0);
    assert_int_equal(f, SS_TRACE_AZURE);
    assert_int_equal(r[0].r.prompt_tokens, 4);
    static const char bom[] = "\xEF\xBB\xBF"
                              "arrival_s,prompt_tokens,output_tokens\n1,2,3\n";
    p = write_tmp("case.csv", bom, sizeof bom - 1);
    assert_int_equal(read_all(p, -1, NULL, r, 4, &rc, &d, &f, NULL), 1);
    assert_int_equal(rc, 0);
    /* Empty JSON Lines file with the format given: zero rows. */
    p = write_tmp("case.jsonl", "", 0);
    assert_int_equal(read_all(p, SS_TRACE_MOONCAKE, NULL, r, 4, &rc, &d, NULL, NULL), 0);
    assert_int_equal(rc, 0);
    /* require_sorted = 0: going back is allowed and t becomes negative. */
    static const char back[] = "arrival_s,prompt_tokens,output_tokens\n5,1,1\n2.5,1,1\n7,1,1\n";
    p = write_tmp("case.csv", back, sizeof back - 1);
    ss_trace_opts o = ss_trace_opts_defaults();
    o.require_sorted = 0;
    assert_int_equal(read_all(p, -1, &o, r, 4, &rc, &d, NULL, NULL), 3);
    assert_int_equal(rc, 0);
    assert_int_equal(r[1].r.t, -2500000000);
    assert_int_equal(r[2].r.t, 2000000000);
}

/*============================================================ detection */

static void test_detection(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        ss_trace_format f;
    } cases[] = {
        {FIX "native_full.csv", SS_TRACE_NATIVE},
        {FIX "native_min.csv", SS_TRACE_NATIVE},
        {FIX "az2023_small.csv.gz", SS_TRACE_AZURE},
        {FIX "mc25_small.jsonl", SS_TRACE_MOONCAKE},
        {FIX "lengths_small.csv", SS_TRACE_LENGTHS},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        ss_trace *t = NULL;
        ss_diag d;
        ss_diag_clear(&d);
        assert_int_equal(ss_trace_open(cases[i].file, -1, NULL, &t, &d), SS_OK);
        assert_int_equal(ss_trace_get_format(t), cases[i].f);
        assert_string_equal(ss_trace_path(t), cases[i].file);
        ss_trace_close(t);
    }
    /* A format given explicitly wins, and a mismatching header is an error. */
    ss_trace *t = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX "az2023_small.csv", SS_TRACE_NATIVE, NULL, &t, &d),
                     SS_ERR_INVALID);
    assert_null(t);
    expect_msg(&d, FIX "az2023_small.csv", 1, "unknown column 'TIMESTAMP' in the header (native");
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX "mc25_small.jsonl", SS_TRACE_LENGTHS, NULL, &t, &d),
                     SS_ERR_INVALID);
    expect_msg(&d, FIX "mc25_small.jsonl", 1, "unknown column '{\"timestamp\": 1000");
    /* A CSV read as mooncake fails on its first line as invalid JSON. */
    int rc;
    rowcopy r[1];
    read_all(FIX "lengths_small.csv", SS_TRACE_MOONCAKE, NULL, r, 1, &rc, &d, NULL, NULL);
    assert_int_equal(rc, SS_ERR_INVALID);
    expect_msg(&d, FIX "lengths_small.csv", 1, "invalid JSON at column 1");
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX "native_full.csv", SS_TRACE_FORMAT_COUNT, NULL, &t, &d),
                     SS_ERR_INVALID);
    /* Missing file, directory. */
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX "no_such_file.csv", -1, NULL, &t, &d), SS_ERR_IO);
    expect_msg(&d, FIX "no_such_file.csv", 0, "cannot open trace: No such file or directory");
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX, -1, NULL, &t, &d), SS_ERR_IO);
    expect_msg(&d, FIX, 0, "not a regular file");
    assert_null(t);
}

/*============================================================ malformed input */

/* One bad input each. at_open: the error comes from ss_trace_open (whole-file errors, never
 * skipped). Otherwise the file has good rows around one bad one; lenient mode must return
 * `rows` rows and skip `skipped`. */
typedef struct bad_case {
    int fmt;
    const char *text;
    int at_open;
    int line;
    const char *sub;
    int rows, skipped;
} bad_case;

#define NH "arrival_s,prompt_tokens,output_tokens\n"
#define AH "TIMESTAMP,ContextTokens,GeneratedTokens\n"
#define LH "num_prefill_tokens,num_decode_tokens,num_total_tokens,pd_ratio\n"
#define MK(ts, in, out, h) "{\"timestamp\": " ts ", \"input_length\": " in \
                           ", \"output_length\": " out ", \"hash_ids\": " h "}\n"
#define MOK MK("0", "600", "10", "[0, 1]")

static const bad_case bad_cases[] = {
    /* native: header */
    {-1, "arrival_s,prompt_tokens\n0,1\n", 1, 1, "missing required column 'output_tokens'", 0, 0},
    {-1, "arrival_s,prompt_tokens,output_tokens,prompt_tokens\n", 1, 1,
     "column 'prompt_tokens' appears twice in the header", 0, 0},
    {-1, "arrival_s,,prompt_tokens,output_tokens\n", 1, 1, "header column 2 has no name", 0, 0},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes\n", 1, 1,
     "column 'block_hashes' needs column 'block_tokens'", 0, 0},
    {-1, "\n" NH "0,1,1\n", 1, 1, "blank line before the CSV header", 0, 0},
    {SS_TRACE_NATIVE, "arrival_s,prompt_tokens,output_tokens,Class\n", 1, 1,
     "unknown column 'Class' in the header (native columns: arrival_s, prompt_tokens, "
     "output_tokens, class, prefix_id, block_hashes, block_tokens)", 0, 0},
    /* native: arrival_s */
    {-1, NH "0,1,1\nabc,1,1\n1,1,1\n", 0, 3,
     "field 'arrival_s': expected a decimal number of seconds", 2, 1},
    {-1, NH "0,1,1\n-1.5,1,1\n1,1,1\n", 0, 3, "field 'arrival_s': negative time '-1.5'", 2, 1},
    {-1, NH "0,1,1\n1.,1,1\n1,1,1\n", 0, 3, "got '1.'", 2, 1},
    {-1, NH "0,1,1\n.5,1,1\n1,1,1\n", 0, 3, "got '.5'", 2, 1},
    {-1, NH "0,1,1\n1e3,1,1\n1,1,1\n", 0, 3, "got '1e3'", 2, 1},
    {-1, NH "0,1,1\n1.0000000001,1,1\n1,1,1\n", 0, 3,
     "field 'arrival_s': '1.0000000001' has 10 fractional digits; at most 9", 2, 1},
    {-1, NH "0,1,1\n99999999999999999999,1,1\n1,1,1\n", 0, 3,
     "field 'arrival_s': '99999999999999999999' is out of range", 2, 1},
    {-1, NH "0,1,1\n9300000000,1,1\n1,1,1\n", 0, 3,
     "field 'arrival_s': time is more than", 2, 1},
    {-1, NH "0,1,1\n2,1,1\n1.999999999,1,1\n3,1,1\n", 0, 4,
     "field 'arrival_s': time goes backwards: +1.999999999 s is before the previous row's +2 s",
     3, 1},
    /* native: lengths and optional columns */
    {-1, NH "0,1,1\n1,,1\n2,1,1\n", 0, 3,
     "field 'prompt_tokens': expected a non-negative integer, got ''", 2, 1},
    {-1, NH "0,1,1\n1,-5,1\n2,1,1\n", 0, 3,
     "field 'prompt_tokens': expected a non-negative integer, got '-5'", 2, 1},
    {-1, NH "0,1,1\n1,4294967296,1\n2,1,1\n", 0, 3,
     "field 'prompt_tokens': value '4294967296' is out of range (at most 4294967295)", 2, 1},
    {-1, NH "0,1,1\n1,1,0\n2,1,1\n", 0, 3,
     "field 'output_tokens': output length is 0 (servesim needs at least 1 token)", 2, 1},
    {-1, NH "0,1,1\n1,0,1\n2,1,1\n", 0, 3, "field 'prompt_tokens': prompt length is 0", 2, 1},
    {-1, NH "0,1,1\n1,1,1,\n2,1,1\n", 0, 3, "extra field 4 (the row has 4 fields, the header 3)",
     2, 1},
    {-1, NH "0,1,1\n1,1\n2,1,1\n", 0, 3,
     "missing field 'output_tokens' (the row has 2 fields, the header 3)", 2, 1},
    {-1, NH "0,1,1\n\n2,1,1\n", 0, 3, "blank line before more data", 2, 1},
    {-1, NH "0,1,1\n \t\n\n2,1,1\n", 0, 3, "blank line before more data", 2, 2},
    {-1, NH "0,1,1\n1,\r2,1\n2,1,1\n", 0, 3, "got '\\x0d2'", 2, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,class\n0,1,1,a\n"
         "1,1,1,abcdefghijabcdefghijabcdefghijab\n",
     0, 3, "field 'class': class name 'abcdefghijabcdefghijabcdefghijab' is longer than 31", 1, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,class\n0,1,1,a b\n1,1,1,a\n", 0, 2,
     "field 'class': class name 'a b' has a space", 1, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,prefix_id\n0,1,1,-1\n1,1,1,3\n", 0, 2,
     "field 'prefix_id': expected a non-negative integer, got '-1'", 1, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes,block_tokens\n0,99,1,1 x,16\n", 0, 2,
     "field 'block_hashes': hash 2: expected a non-negative integer, got 'x'", 0, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes,block_tokens\n"
         "0,99,1,18446744073709551616,16\n",
     0, 2, "field 'block_hashes': hash 1: '18446744073709551616' is larger than 2^64-1", 0, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes,block_tokens\n0,99,1,1 2,\n", 0, 2,
     "field 'block_tokens': is empty but the row has block hashes", 0, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes,block_tokens\n0,99,1,1,0\n", 0, 2,
     "field 'block_tokens': must be at least 1, got 0", 0, 1},
    {-1, "arrival_s,prompt_tokens,output_tokens,block_hashes,block_tokens\n0,10,1,1 2,16\n", 0, 2,
     "field 'block_hashes': 2 block hashes for 10 prompt tokens: more than the 1 blocks of 16",
     0, 1},
    {-1, NH "0,1,1\n1,1\0,1\n2,1,1\n", 0, 3, "NUL byte at column 4", 2, 1},
    /* azure */
    {-1, AH "2023-11-16 18:17:03.4581291,5,5\n2023-11-16T18:17:04.0,5,5\n"
            "2023-11-16 18:17:05,5,5", 0,
     3, "field 'TIMESTAMP': expected 'YYYY-MM-DD HH:MM:SS.fffffff', got '2023-11-16T18:17:04.0'",
     2, 1},
    {-1, AH "2023-11-16 18:17:03.4581291,5,5\n2023-11-16 18:17:04.0123456789,5,5\n", 0, 3,
     "expected 'YYYY-MM-DD HH:MM:SS.fffffff'", 1, 1},
    {-1, AH "2023-11-16 18:17:03.,5,5\n", 0, 2, "expected 'YYYY-MM-DD HH:MM:SS.fffffff'", 0, 1},
    {-1, AH "2023-02-28 23:00:00.0,5,5\n2023-02-29 00:00:00.0,5,5\n2023-03-01 00:00:00.0,5,5\n", 0,
     3, "field 'TIMESTAMP': no such date in '2023-02-29 00:00:00.0'", 2, 1},
    {-1, AH "2023-11-16 24:00:00.0,5,5\n", 0, 2, "no such time of day", 0, 1},
    {-1, AH "2023-11-16 18:17:03.4581291,5,5\n2023-11-16 18:17:04.0,1.5,5\n", 0, 3,
     "field 'ContextTokens': expected a non-negative integer, got '1.5'", 1, 1},
    {-1, AH "2023-11-16 18:17:03.4581291,5,5\n2023-11-16 18:17:04.0,-3,5\n", 0, 3,
     "field 'ContextTokens': expected a non-negative integer, got '-3'", 1, 1},
    {-1, AH "2023-11-16 18:17:03.4581291,0,5\n2023-11-16 18:17:04.0,3,5\n", 0, 2,
     "field 'ContextTokens': prompt length is 0", 1, 1},
    {-1, AH "2023-11-16 18:17:03.4581291,5,5\n2023-11-16 18:17:03.4581290,5,5\n", 0, 3,
     "field 'TIMESTAMP': time goes backwards: -0.0000001 s", 1, 1},
    {-1, "TIMESTAMP,ContextTokens,GeneratedTokens,Extra\n", 1, 1,
     "unknown column 'Extra' in the header (azure columns: TIMESTAMP, ContextTokens, "
     "GeneratedTokens)", 0, 0},
    /* mooncake */
    {-1, MOK "{\"timestamp\": 1, \"input_length\": 600}\n" MOK, 0, 2,
     "missing field 'output_length'", 2, 1},
    {-1, MOK "{\"timestamp\": 1, \"input_length\": 600, \"output_length\": 1, "
             "\"hash_ids\": []} x\n",
     0, 2, "invalid JSON at column 75, near 'x'", 1, 1},
    {-1, MOK "{\"timestamp\": 1, \"input_length\": 600, \"output_length\": 1, \"hash_ids\": [], "
             "\"foo\": 1}\n",
     0, 2,
     "unknown field 'foo' (mooncake fields: timestamp, input_length, output_length, hash_ids)",
     1, 1},
    {-1, MOK "{\"timestamp\": 1, \"timestamp\": 2, \"input_length\": 600, \"output_length\": 1, "
             "\"hash_ids\": []}\n",
     0, 2, "field 'timestamp' appears twice", 1, 1},
    {-1, MOK MK("\"5\"", "600", "10", "[0]"), 0, 2,
     "field 'timestamp': expected a non-negative integer, got the string \"5\"", 1, 1},
    {-1, MOK MK("-1", "600", "10", "[0]"), 0, 2,
     "field 'timestamp': expected a non-negative integer, got -1", 1, 1},
    {-1, MOK MK("1.5", "600", "10", "[0]"), 0, 2,
     "field 'timestamp': expected a non-negative integer, got 1.5", 1, 1},
    {-1, MOK MK("1", "600", "null", "[0]"), 0, 2,
     "field 'output_length': expected a non-negative integer, got null", 1, 1},
    {-1, MOK MK("1", "4294967296", "1", "[0]"), 0, 2,
     "field 'input_length': value 4294967296 is out of range (at most 4294967295)", 1, 1},
    {-1, MOK MK("1", "600", "10", "{}"), 0, 2,
     "field 'hash_ids': expected an array of integers, got an object", 1, 1},
    {-1, MOK MK("1", "600", "10", "[0, -1]"), 0, 2,
     "field 'hash_ids': element 2: expected a non-negative integer, got -1", 1, 1},
    {-1, MOK MK("1", "600", "10", "[9007199254740992]"), 0, 2,
     "field 'hash_ids': element 1: value 9007199254740992 is out of range", 1, 1},
    {-1, MOK MK("1", "512", "10", "[0, 1]"), 0, 2,
     "field 'hash_ids': 2 block hashes for 512 prompt tokens: more than the 1 blocks of 512", 1,
     1},
    {-1, MOK MK("1", "0", "10", "[]"), 0, 2, "field 'input_length': prompt length is 0", 1, 1},
    {-1, MK("10", "600", "10", "[0]") MK("9", "600", "10", "[0]") MK("11", "600", "10", "[0]"), 0,
     2, "field 'timestamp': time goes backwards: -0.001 s is before the previous row's +0 s", 2,
     1},
    {-1, "\n" MOK MOK, 0, 1, "blank line before more data", 2, 1},
    {SS_TRACE_MOONCAKE, "[1, 2]\n" MOK, 0, 1, "expected a JSON object, got an array", 1, 1},
    /* lengths */
    {-1, LH "3000,50,3050,60.0\n7,3,11,2.3333333333333335\n1,1,2,1\n", 0, 3,
     "field 'num_total_tokens': 11 is not num_prefill_tokens + num_decode_tokens = 10", 2, 1},
    {-1, LH "3000,50,3050,60.0\n7,3,10,0.42857142857142855\n", 0, 3,
     "field 'pd_ratio': 0.42857142857142855 is not num_prefill_tokens / num_decode_tokens", 1,
     1},
    {-1, LH "3000,50,3050,nan\n7,3,10,2.3333333\n", 0, 2,
     "field 'pd_ratio': expected a non-negative decimal number, got 'nan'", 1, 1},
    {-1, LH "3000,0,3000,inf\n7,3,10,2.3333333\n", 0, 2,
     "field 'num_decode_tokens': output length is 0", 1, 1},
    {-1, LH "3000,50,3050\n", 0, 2, "missing field 'pd_ratio'", 0, 1},
    /* detection */
    {-1, "a,b,c\n1,2,3\n", 1, 1, "cannot detect the trace format from 'a,b,c'", 0, 0},
    {-1, "{\"ts\": 1}\n", 1, 1, "cannot detect the trace format", 0, 0},
    {-1, "", 1, 0, "empty file: cannot detect the trace format", 0, 0},
    {-1, "\n\n", 1, 0, "empty file: cannot detect the trace format", 0, 0},
    {SS_TRACE_AZURE, "", 1, 0, "empty file: expected a CSV header (azure format)", 0, 0},
};

static size_t text_len(const bad_case *c)
{
    /* The NUL-byte case carries an embedded NUL: its length is known from its layout. */
    size_t n = strlen(c->text);
    if (strstr(c->sub, "NUL byte")) n += 1 + strlen(c->text + n + 1);
    return n;
}

static void test_bad_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof *bad_cases; i++) {
        const bad_case *c = &bad_cases[i];
        int json = c->fmt == SS_TRACE_MOONCAKE || c->text[0] == '{' ||
                   (c->text[0] == '\n' && c->text[1] == '{');
        const char *p = write_tmp(json ? "case.jsonl" : "case.csv", c->text, text_len(c));
        rowcopy r[4];
        int rc;
        ss_diag d;
        uint64_t skipped = 0;
        print_message("case %zu: %s\n", i, c->sub);
        /* strict */
        ss_trace *t = NULL;
        ss_diag_clear(&d);
        rc = ss_trace_open(p, c->fmt, NULL, &t, &d);
        if (c->at_open) {
            assert_int_equal(rc, SS_ERR_INVALID);
            assert_null(t);
            expect_msg(&d, p, c->line, c->sub);
            ss_trace_opts o = ss_trace_opts_defaults();
            o.lenient = 1; /* whole-file errors are not skippable */
            ss_diag_clear(&d);
            assert_int_equal(ss_trace_open(p, c->fmt, &o, &t, &d), SS_ERR_INVALID);
            continue;
        }
        assert_int_equal(rc, SS_OK);
        ss_trace_row row;
        int k;
        while ((k = ss_trace_next(t, &row, &d)) == 1) {}
        assert_int_equal(k, SS_ERR_INVALID);
        expect_msg(&d, p, c->line, c->sub);
        /* sticky: the same error again, into a fresh diag */
        ss_diag d2;
        ss_diag_clear(&d2);
        assert_int_equal(ss_trace_next(t, &row, &d2), SS_ERR_INVALID);
        assert_int_equal(d2.line, d.line);
        assert_string_equal(d2.msg, d.msg);
        assert_int_equal(ss_trace_skipped(t), 0);
        ss_trace_close(t);
        /* lenient */
        ss_trace_opts o = ss_trace_opts_defaults();
        o.lenient = 1;
        size_t n = read_all(p, c->fmt, &o, r, 4, &rc, &d, NULL, &skipped);
        assert_int_equal(rc, 0);
        assert_int_equal(n, c->rows);
        assert_int_equal(skipped, c->skipped);
    }
}

/* The checked-in bad fixtures: the exact messages quoted in docs/traces.md. */
static void test_bad_fixtures(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        int at_open, line;
        const char *msg;
    } cases[] = {
        {FIX "native_bad_column.csv", 1, 1,
         FIX "native_bad_column.csv:1: unknown column 'priority' in the header (native columns: "
             "arrival_s, prompt_tokens, output_tokens, class, prefix_id, block_hashes, "
             "block_tokens)"},
        {FIX "native_bad_negative.csv", 0, 3,
         FIX "native_bad_negative.csv:3: field 'prompt_tokens': expected a non-negative integer, "
             "got '-5'"},
        {FIX "native_bad_digits.csv", 0, 3,
         FIX "native_bad_digits.csv:3: field 'arrival_s': '0.0000000001' has 10 fractional "
             "digits; at most 9 (1 ns resolution)"},
        {FIX "az2023_bad_int.csv", 0, 4,
         FIX "az2023_bad_int.csv:4: field 'ContextTokens': expected a non-negative integer, got "
             "'x'"},
        {FIX "az2023_bad_int.csv.gz", 0, 4,
         FIX "az2023_bad_int.csv.gz:4: field 'ContextTokens': expected a non-negative integer, "
             "got 'x'"},
        {FIX "az2023_bad_order.csv", 0, 4,
         FIX "az2023_bad_order.csv:4: field 'TIMESTAMP': time goes backwards: +0.4418709 s is "
             "before the previous row's +0.5418709 s (relative to the first row; rows must be "
             "sorted)"},
        {FIX "az2023_zero_output.csv", 0, 3,
         FIX "az2023_zero_output.csv:3: field 'GeneratedTokens': output length is 0 (servesim "
             "needs at least 1 token)"},
        {FIX "az2023_missing_field.csv", 0, 2,
         FIX "az2023_missing_field.csv:2: missing field 'GeneratedTokens' (the row has 2 fields, "
             "the header 3)"},
        {FIX "mc25_bad_json.jsonl", 0, 3,
         FIX "mc25_bad_json.jsonl:3: invalid JSON at column 77: the line ends before the value "
             "is complete"},
        {FIX "mc25_missing.jsonl", 0, 2,
         FIX "mc25_missing.jsonl:2: missing field 'output_length'"},
        {FIX "lengths_bad_total.csv", 0, 3,
         FIX "lengths_bad_total.csv:3: field 'num_total_tokens': 11 is not num_prefill_tokens + "
             "num_decode_tokens = 10"},
        {FIX "truncated.csv.gz", 0, 1,
         FIX "truncated.csv.gz:1: truncated gzip file: the compressed data ends early"},
        {FIX "corrupt.csv.gz", 0, 1, FIX "corrupt.csv.gz:1: corrupt gzip data: "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        rowcopy r[8];
        int rc;
        ss_diag d;
        char buf[2048];
        read_all(cases[i].file, -1, NULL, r, 8, &rc, &d, NULL, NULL);
        assert_true(rc < 0);
        assert_int_equal(d.line, cases[i].line);
        ss_diag_format(&d, buf, sizeof buf);
        if (strncmp(buf, cases[i].msg, strlen(cases[i].msg)) != 0)
            fail_msg("%s:\n got  %s\n want %s", cases[i].file, buf, cases[i].msg);
    }
}

/* native_lenient.csv: bad rows of several kinds and a blank line between good rows. */
static void test_lenient(void **state)
{
    (void)state;
    ss_trace_opts o = ss_trace_opts_defaults();
    o.lenient = 1;
    ss_trace *t = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(FIX "native_lenient.csv", -1, &o, &t, &d), SS_OK);
    assert_null(ss_trace_first_skipped(t));
    ss_trace_row r;
    static const int64_t lines[] = {2, 6, 10};
    static const int64_t times[] = {0, 3000000000, 6000000000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ss_trace_next(t, &r, &d), 1);
        assert_int_equal(r.line, lines[i]);
        assert_int_equal(r.t, times[i]);
    }
    assert_int_equal(ss_trace_next(t, &r, &d), 0);
    assert_int_equal(d.rc, SS_OK);
    /* lines 3 (abc), 4 (missing class), 5 (blank), 7 (2.5 < 3), 8 (prompt 0), 9 (extra) */
    assert_int_equal(ss_trace_skipped(t), 6);
    assert_int_equal(ss_trace_rows(t), 3);
    const ss_diag *first = ss_trace_first_skipped(t);
    assert_non_null(first);
    assert_int_equal(first->line, 3);
    assert_non_null(strstr(first->msg, "field 'prompt_tokens': expected a non-negative integer, "
                                       "got 'abc'"));
    ss_trace_close(t);

    /* Strict mode stops at line 3. */
    rowcopy rc_rows[4];
    int rc;
    size_t n = read_all(FIX "native_lenient.csv", -1, NULL, rc_rows, 4, &rc, &d, NULL, NULL);
    assert_int_equal(n, 1);
    assert_int_equal(rc, SS_ERR_INVALID);
    assert_int_equal(d.line, 3);

    /* A zero output length: error when strict, one skip when lenient. */
    uint64_t skipped;
    n = read_all(FIX "az2023_zero_output.csv", -1, &o, rc_rows, 4, &rc, &d, NULL, &skipped);
    assert_int_equal(rc, 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 1);
    assert_int_equal(rc_rows[1].r.t, INT64_C(1541870900)); /* 18:17:05.0 - 18:17:03.4581291 */
}

/*============================================================ limits */

static void test_long_lines(void **state)
{
    (void)state;
    /* 200,000 hashes on one native line (~1.4 MB): the line buffer and hash array grow. */
    const uint32_t nh = 200000;
    size_t cap = (size_t)nh * 8 + 256, o = 0;
    char *buf = malloc(cap);
    assert_non_null(buf);
    o += (size_t)snprintf(buf + o, cap - o, "arrival_s,prompt_tokens,output_tokens,"
                                             "block_hashes,block_tokens\n0,%u,1,",
                          nh * 16);
    for (uint32_t i = 0; i < nh; i++) o += (size_t)snprintf(buf + o, cap - o, i ? " %u" : "%u", i);
    o += (size_t)snprintf(buf + o, cap - o, ",16\n1,16,1,,\n");
    const char *p = write_tmp("long.csv", buf, o);
    ss_trace *t = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(p, -1, NULL, &t, &d), SS_OK);
    ss_trace_row r;
    assert_int_equal(ss_trace_next(t, &r, &d), 1);
    assert_int_equal(r.nhashes, nh);
    assert_int_equal(r.hashes[0], 0);
    assert_int_equal(r.hashes[nh - 1], nh - 1);
    assert_int_equal(ss_trace_next(t, &r, &d), 1);
    assert_int_equal(r.nhashes, 0);
    assert_int_equal(ss_trace_next(t, &r, &d), 0);
    ss_trace_close(t);

    /* A limit shrunk below the long line: an error naming the line, never a truncation,
     * and not skippable. Exactly at the limit is fine. */
    ss_trace_opts opt = ss_trace_opts_defaults();
    opt.lenient = 1;
    opt.max_line_bytes = 1000;
    int rc;
    rowcopy rows[2];
    read_all(p, -1, &opt, rows, 2, &rc, &d, NULL, NULL);
    assert_int_equal(rc, SS_ERR_INVALID);
    expect_msg(&d, p, 2, "line is longer than 1000 bytes");
    free(buf);

    static const char exact[] = NH "0,1,1\r\n1,10,20\n"; /* "1,10,20" is 7 bytes */
    p = write_tmp("long.csv", exact, sizeof exact - 1);
    opt.max_line_bytes = 37; /* the header is 37 bytes */
    assert_int_equal(read_all(p, -1, &opt, rows, 2, &rc, &d, NULL, NULL), 2);
    assert_int_equal(rc, 0);
    opt.max_line_bytes = 36;
    read_all(p, -1, &opt, rows, 2, &rc, &d, NULL, NULL);
    assert_int_equal(rc, SS_ERR_INVALID);
    expect_msg(&d, p, 1, "line is longer than 36 bytes");

    /* Many rows through the 64 KiB input block boundary, line numbers exact. */
    size_t nrows = 30000;
    cap = nrows * 32 + 64;
    buf = malloc(cap);
    assert_non_null(buf);
    o = (size_t)snprintf(buf, cap, NH);
    for (size_t i = 0; i < nrows; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%zu.%03zu,%zu,%zu\r\n", i / 1000, i % 1000,
                              i % 977 + 1, i % 13 + 1);
    p = write_tmp("many.csv", buf, o);
    free(buf);
    ss_diag_clear(&d);
    assert_int_equal(ss_trace_open(p, -1, NULL, &t, &d), SS_OK);
    for (size_t i = 0; i < nrows; i++) {
        assert_int_equal(ss_trace_next(t, &r, &d), 1);
        assert_int_equal(r.line, (int64_t)i + 2);
        assert_int_equal(r.t, (int64_t)i * 1000000);
        assert_int_equal(r.prompt_tokens, i % 977 + 1);
    }
    assert_int_equal(ss_trace_next(t, &r, &d), 0);
    ss_trace_close(t);
}

static void test_truncated_gzip(void **state)
{
    (void)state;
    ss_trace *t = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    /* The cut is inside the first line: open itself fails, with an I/O error. */
    assert_int_equal(ss_trace_open(FIX "truncated.csv.gz", SS_TRACE_NATIVE, NULL, &t, &d),
                     SS_ERR_IO);
    assert_null(t);
    expect_msg(&d, FIX "truncated.csv.gz", 1, "truncated gzip file");
}

/*============================================================ real data */

static const char *data_dir(void)
{
    const char *e = getenv("SS_DATA_DIR");
    return e && *e ? e : "../shared/data";
}

typedef struct real_case {
    const char *file;
    ss_trace_format fmt;
    uint64_t rows;
    int64_t last_t; /* -1: no time */
    uint64_t sum_prompt, sum_output, sum_hashes;
} real_case;

/* Row counts from the data README (section 2); time spans and sums computed independently
 * (Python, exact decimal arithmetic) from the same files. */
static const real_case real_cases[] = {
    {"traces/azure_llm_2023/AzureLLMInferenceTrace_code.csv.gz", SS_TRACE_AZURE, 8819,
     INT64_C(3435948056000), 18059974, 245896, 0},
    {"traces/azure_llm_2023/AzureLLMInferenceTrace_conv.csv.gz", SS_TRACE_AZURE, 19366,
     INT64_C(3501721937000), 22361870, 4088665, 0},
    {"traces/mooncake_fast25/conversation_trace.jsonl.gz", SS_TRACE_MOONCAKE, 12031,
     INT64_C(3536999000000), 144793823, 4122048, 288500},
    {"traces/mooncake_fast25/synthetic_trace.jsonl.gz", SS_TRACE_MOONCAKE, 3993,
     INT64_C(1022025000000), 61194628, 595432, 121877},
    {"traces/length_only/arxiv_summarization_stats_llama2_tokenizer_filtered_v2.csv.gz",
     SS_TRACE_LENGTHS, 28257, -1, 73131321, 8234948, 0},
    {"traces/length_only/sharegpt_8k_filtered_stats_llama2_tokenizer.csv.gz", SS_TRACE_LENGTHS,
     30731, -1, 71911571, 13481988, 0},
};

static void test_real_data(void **state)
{
    (void)state;
    char dir[600];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/traces", data_dir());
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        print_message("note: %s not found (set SS_DATA_DIR); real-trace test skipped\n", dir);
        skip();
    }
    for (size_t i = 0; i < sizeof real_cases / sizeof *real_cases; i++) {
        const real_case *c = &real_cases[i];
        char path[1200];
        snprintf(path, sizeof path, "%s/%s", data_dir(), c->file);
        ss_trace *t = NULL;
        ss_diag d;
        ss_diag_clear(&d);
        int rc = ss_trace_open(path, -1, NULL, &t, &d);
        if (rc != SS_OK) fail_msg("%s: %s", path, d.msg);
        assert_int_equal(ss_trace_get_format(t), c->fmt);
        ss_trace_row r;
        uint64_t sp = 0, so = 0, sh = 0;
        int64_t first = -1, last = 0;
        int k;
        while ((k = ss_trace_next(t, &r, &d)) == 1) {
            if (first < 0) first = r.t;
            last = r.t;
            sp += r.prompt_tokens;
            so += r.output_tokens;
            sh += r.nhashes;
            assert_int_equal(r.has_time, c->last_t >= 0);
            if (c->fmt == SS_TRACE_MOONCAKE) {
                assert_int_equal(r.hash_block_tokens, 512);
                assert_int_equal(r.nhashes, (r.prompt_tokens + 511) / 512);
            }
        }
        if (k != 0) fail_msg("%s: %s", path, d.msg);
        print_message("%s: %llu rows, span %lld ns\n", c->file,
                      (unsigned long long)ss_trace_rows(t), (long long)last);
        assert_int_equal(ss_trace_rows(t), c->rows);
        assert_int_equal(ss_trace_skipped(t), 0);
        assert_int_equal(first, 0);
        assert_int_equal(last, c->last_t >= 0 ? c->last_t : 0);
        assert_int_equal(sp, c->sum_prompt);
        assert_int_equal(so, c->sum_output);
        assert_int_equal(sh, c->sum_hashes);
        ss_trace_close(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_names),   cmocka_unit_test(test_native_full),
        cmocka_unit_test(test_native_min_crlf), cmocka_unit_test(test_az2023_small),
        cmocka_unit_test(test_mc25_small), cmocka_unit_test(test_lengths_small),
        cmocka_unit_test(test_good_edges),     cmocka_unit_test(test_detection),
        cmocka_unit_test(test_bad_cases),      cmocka_unit_test(test_bad_fixtures),
        cmocka_unit_test(test_lenient),        cmocka_unit_test(test_long_lines),
        cmocka_unit_test(test_truncated_gzip), cmocka_unit_test(test_real_data),
    };
    return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
