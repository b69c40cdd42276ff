/* Unit tests for hwprofiles/ profiles: the built-in profiles and their provenance, the alias
 * table and the profile checker's error reports. The roofline cost model's tests are
 * test_cost_roofline.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "hwprofiles/cost.h"
#include "hwprofiles/hw.h"
#include "tests/unit/hw_testutil.h"

/* ================================================================== helpers */

static const char *const builtin_names[] = {"a100-80gb-sxm", "b200-sxm",     "h100-sxm",
                                            "h200-sxm",      "mi300x",       "rtx-4090",
                                            "rtx-pro-6000",  "a40",          "a800",
                                            "h20",           "h800",         NULL};


/* ================================================================== built-in profiles */

static void test_every_builtin_loads(void **state)
{
    (void)state;
    int n = 0;
    for (const ss_embedded_file *e = ss_hw_zoo; e->name; e++) {
        if (strcmp(e->name, "aliases") == 0) continue;
        ss_hw hw = load_ok(e->name);
        assert_string_equal(hw.name, e->name);
        assert_true(hw.display_name[0] && hw.vendor[0]);
        assert_true(hw.peak_flops_bf16 > 0 && hw.peak_flops_fp32 > 0);
        assert_true(hw.hbm_bytes > hw.reserve_bytes);
        assert_true(hw.hbm_bandwidth > 0 && hw.link_bandwidth > 0 && hw.host_link_bandwidth > 0);
        assert_true(hw.compute_efficiency > 0 && hw.compute_efficiency <= 1);
        assert_true(hw.memory_efficiency > 0 && hw.memory_efficiency <= 1);
        assert_true(hw.link_efficiency > 0 && hw.link_efficiency <= 1);
        assert_true(hw.tdp_w > 0);
        /* price 0 means unknown (schema); then the source must say so */
        assert_true(hw.price_per_hour > 0 ||
                    strstr(hw.sources, "price_per_hour: unknown") != NULL);
        /* Datasheets order the rates: narrower types are never slower where supported. */
        if (hw.peak_flops_fp8 > 0) assert_true(hw.peak_flops_fp8 >= hw.peak_flops_bf16);
        if (hw.peak_flops_fp4 > 0) assert_true(hw.peak_flops_fp4 >= hw.peak_flops_fp8);
        n++;
    }
    int expected = 0;
    for (int i = 0; builtin_names[i]; i++) {
        assert_non_null(ss_embed_find(ss_hw_zoo, builtin_names[i]));
        expected++;
    }
    assert_int_equal(n, expected);
}

/* Every figure in a built-in profile names its source (the project rule "every value with
 * its source"): each key set in the file has a line in hw.sources. */
static void test_every_value_has_a_source(void **state)
{
    (void)state;
    static const char *const valued[] = {
        "peak_flops_bf16", "peak_flops_fp8", "peak_flops_fp4", "peak_flops_fp32",
        "hbm_bytes", "hbm_bandwidth", "link_bandwidth", "link_latency", "host_link_bandwidth",
        "tdp_w", "price_per_hour", "reserve_bytes", "compute_efficiency", "memory_efficiency",
        "link_efficiency", "kernel_launch", "iteration_overhead", NULL};
    for (int i = 0; builtin_names[i]; i++) {
        const ss_embedded_file *e = ss_embed_find(ss_hw_zoo, builtin_names[i]);
        assert_non_null(e);
        ss_doc *doc;
        ss_diag d;
        ss_diag_clear(&d);
        assert_int_equal(ss_doc_load_string(e->path, e->text, strlen(e->text), &doc, &d), SS_OK);
        ss_hw hw = load_ok(e->name);
        for (int k = 0; valued[k]; k++) {
            /* Built-ins set every key explicitly: a default would have no source. */
            if (!ss_node_get(doc, ss_doc_root(doc), valued[k]))
                fail_msg("%s does not set %s", e->name, valued[k]);
            char needle[64];
            snprintf(needle, sizeof needle, "%s: ", valued[k]);
            const char *p = strstr(hw.sources, needle);
            if (!p || (p != hw.sources && p[-1] != '\n'))
                fail_msg("%s: no source for %s", e->name, valued[k]);
        }
        ss_doc_free(doc);
    }
}

static void test_datasheet_figures(void **state)
{
    (void)state;
    ss_hw h100 = load_ok("h100-sxm");
    assert_true(h100.hbm_bytes == 85899345920ULL);
    assert_true(h100.peak_flops_bf16 == 989e12 && h100.peak_flops_fp8 == 1978e12);
    assert_true(h100.hbm_bandwidth == 3.35e12);
    assert_true(rel_close(h100.kernel_launch_s, 2.45e-6, 1e-9));
    assert_true(rel_close(h100.iteration_overhead_s, 1.17e-3, 1e-9));
    assert_true(rel_close(h100.link_latency_s, 0.9e-6, 1e-9));
    ss_hw h200 = load_ok("h200-sxm");
    assert_true(h200.hbm_bytes == 151397597184ULL); /* aiconfigurator's mem_capacity */
    ss_hw a100 = load_ok("a100-80gb-sxm");
    assert_true(a100.hbm_bytes == 85899345920ULL && a100.peak_flops_fp8 == 0);
    ss_hw b200 = load_ok("b200-sxm");
    assert_true(b200.hbm_bytes == 193273528320ULL && b200.peak_flops_fp4 == 9000e12);
    ss_hw g4090 = load_ok("rtx-4090");
    assert_true(g4090.hbm_bytes == 25769803776ULL && g4090.peak_flops_bf16 == 165.2e12);
    assert_true(g4090.hbm_bandwidth == 1.008e12 && g4090.link_bandwidth == 32e9);
    ss_hw pro = load_ok("rtx-pro-6000");
    assert_true(pro.hbm_bytes == 102641958912ULL && pro.hbm_bandwidth == 1.597e12);
}

static void test_peak_flops_fallback(void **state)
{
    (void)state;
    ss_hw a100 = load_ok("a100-80gb-sxm");
    ss_hw h100 = load_ok("h100-sxm");
    ss_hw b200 = load_ok("b200-sxm");
    /* A100 has no FP8/FP4 units: both run at the BF16 rate. */
    assert_true(ss_hw_peak_flops(&a100, SS_DTYPE_FP8) == 312e12);
    assert_true(ss_hw_peak_flops(&a100, SS_DTYPE_FP4) == 312e12);
    assert_true(ss_hw_peak_flops(&a100, SS_DTYPE_FP16) == 312e12);
    assert_true(ss_hw_peak_flops(&a100, SS_DTYPE_FP32) == 19.5e12);
    /* H100 has FP8 but no FP4: FP4 falls to FP8, INT8 shares the FP8 rate. */
    assert_true(ss_hw_peak_flops(&h100, SS_DTYPE_FP4) == 1978e12);
    assert_true(ss_hw_peak_flops(&h100, SS_DTYPE_INT8) == 1978e12);
    assert_true(ss_hw_peak_flops(&b200, SS_DTYPE_FP4) == 9000e12);
    assert_true(ss_hw_peak_flops(&b200, SS_DTYPE_BF16) == 2250e12);
}

/* ================================================================== aliases */

static void test_aliases_resolve(void **state)
{
    (void)state;
    assert_string_equal(ss_hw_canonical("h100_sxm"), "h100-sxm");
    assert_string_equal(ss_hw_canonical("H100-SXM-80GB"), "h100-sxm");
    assert_string_equal(ss_hw_canonical("nvidia h100 80gb hbm3"), "h100-sxm");
    assert_string_equal(ss_hw_canonical("H100-SXM"), "h100-sxm"); /* canonical, any case */
    assert_string_equal(ss_hw_canonical("RTX4090"), "rtx-4090");
    assert_string_equal(ss_hw_canonical("NVIDIA GeForce RTX 4090"), "rtx-4090");
    assert_string_equal(ss_hw_canonical("rtx_pro_6000_server"), "rtx-pro-6000");
    assert_string_equal(ss_hw_canonical("a100"), "a100-80gb-sxm");
    assert_string_equal(ss_hw_canonical("H200-SXM-141GB"), "h200-sxm");
    /* Not GPUs, or not the same GPU: must not resolve. */
    assert_null(ss_hw_canonical("a100_dgx"));
    assert_null(ss_hw_canonical("h100-80gb-pcap"));
    assert_null(ss_hw_canonical("h100_pcie"));
    assert_null(ss_hw_canonical("tpu-v5e"));
    assert_null(ss_hw_canonical("aliases"));
    assert_null(ss_hw_canonical(""));
    assert_null(ss_hw_canonical(NULL));
    /* Loading through an alias gives the canonical profile. */
    ss_hw hw = load_ok("H100-SXM-80GB");
    assert_string_equal(hw.name, "h100-sxm");
}

/* Every alias listed in the table resolves to the profile it is listed under: catches an
 * alias listed twice under different GPUs, and a canonical name without a profile. */
static void test_alias_table_consistent(void **state)
{
    (void)state;
    const ss_embedded_file *tab = ss_embed_find(ss_hw_zoo, "aliases");
    assert_non_null(tab);
    ss_doc *doc;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_doc_load_string(tab->path, tab->text, strlen(tab->text), &doc, &d),
                     SS_OK);
    yaml_node_t *map = ss_node_get(doc, ss_doc_root(doc), "aliases");
    assert_non_null(map);
    int total = 0;
    for (int i = 0; builtin_names[i]; i++) {
        yaml_node_t *list = ss_node_get(doc, map, builtin_names[i]);
        if (!list) fail_msg("no aliases for %s", builtin_names[i]);
        for (size_t j = 0; j < ss_node_seq_len(list); j++) {
            const char *alias = ss_node_scalar(ss_node_seq_at(doc, list, j));
            assert_non_null(alias);
            const char *c = ss_hw_canonical(alias);
            if (!c || strcmp(c, builtin_names[i]) != 0)
                fail_msg("alias '%s' resolves to %s, expected %s", alias, c ? c : "nothing",
                         builtin_names[i]);
            total++;
        }
    }
    /* Same count as the file's lists in all: no entry is keyed by a name we skipped. */
    size_t in_file = 0;
    assert_int_equal(map->type, YAML_MAPPING_NODE);
    in_file = (size_t)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    assert_int_equal(in_file, 11);
    assert_true(total > 20);
    ss_doc_free(doc);
}

static void test_unknown_name_lists_builtins(void **state)
{
    (void)state;
    ss_hw hw;
    memset(&hw, 0x5a, sizeof hw);
    ss_hw before = hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("tpu-v5e", NULL, &hw, &d), SS_ERR_NOTFOUND);
    assert_non_null(strstr(d.msg, "tpu-v5e"));
    for (int i = 0; builtin_names[i]; i++) assert_non_null(strstr(d.msg, builtin_names[i]));
    assert_null(strstr(d.msg, "aliases,"));
    assert_memory_equal(&hw, &before, sizeof hw); /* no side effect on failure */
}

/* ================================================================== profile checker */

/* A minimal valid profile; line numbers are referred to by the tests below. */
static const char *const base_lines[] = {
    "schema_version: 1",           /* 1 */
    "name: test-gpu",              /* 2 */
    "display_name: Test GPU",      /* 3 */
    "vendor: Test",                /* 4 */
    "peak_flops_bf16: 1e15",       /* 5 */
    "peak_flops_fp32: 6e13",       /* 6 */
    "hbm_bytes: 80GiB",            /* 7 */
    "hbm_bandwidth: 3e12",         /* 8 */
    "link_bandwidth: 4.5e11",      /* 9 */
    "host_link_bandwidth: 6.4e10", /* 10 */
    "tdp_w: 700",                  /* 11 */
    "price_per_hour: 2.5",         /* 12 */
    "compute_efficiency: 0.7",     /* 13 */
    "sources:",                    /* 14 */
    "  hbm_bytes: \"a datasheet\"", /* 15 */
    NULL};

/* The base profile with line `line` (1-based) replaced by `repl` (NULL: unchanged). */
static void profile_text(int line, const char *repl, char *buf, size_t n)
{
    size_t used = 0;
    for (int i = 0; base_lines[i]; i++) {
        const char *s = (i + 1 == line && repl) ? repl : base_lines[i];
        used += (size_t)snprintf(buf + used, n - used, "%s\n", s);
        assert_true(used < n);
    }
}

static ss_rc parse_text(const char *docname, const char *text, ss_hw *hw, ss_diag *d)
{
    ss_doc *doc;
    ss_diag_clear(d);
    ss_rc rc = ss_doc_load_string(docname, text, strlen(text), &doc, d);
    if (rc != SS_OK) return rc;
    rc = ss_hw_parse(doc, hw, d);
    ss_doc_free(doc);
    return rc;
}

static void test_good_profile_and_defaults(void **state)
{
    (void)state;
    char buf[2048];
    profile_text(0, NULL, buf, sizeof buf);
    ss_hw hw;
    ss_diag d;
    assert_int_equal(parse_text("<test>", buf, &hw, &d), SS_OK);
    assert_string_equal(hw.name, "test-gpu");
    assert_true(hw.hbm_bytes == 80ULL * 1073741824ULL);
    assert_true(hw.peak_flops_fp8 == 0 && hw.peak_flops_fp4 == 0);
    assert_true(hw.memory_efficiency == 0.85 && hw.link_efficiency == 0.6);
    assert_true(hw.reserve_bytes == 3758096384ULL); /* 3.5 GiB */
    assert_true(rel_close(hw.link_latency_s, 1e-6, 1e-12));
    assert_true(rel_close(hw.kernel_launch_s, 2.5e-6, 1e-12));
    assert_true(rel_close(hw.iteration_overhead_s, 1.17e-3, 1e-12));
    assert_string_equal(hw.sources, "hbm_bytes: a datasheet\n");
    /* Durations take units or plain seconds. */
    profile_text(13, "link_latency: 1500ns", buf, sizeof buf);
    assert_int_equal(parse_text("<test>", buf, &hw, &d), SS_OK);
    assert_true(rel_close(hw.link_latency_s, 1.5e-6, 1e-12));
    profile_text(13, "kernel_launch: 0.000004", buf, sizeof buf);
    assert_int_equal(parse_text("<test>", buf, &hw, &d), SS_OK);
    assert_true(rel_close(hw.kernel_launch_s, 4e-6, 1e-12));
}

typedef struct bad_case {
    int line;          /* line replaced */
    const char *repl;  /* its new text */
    int want_line;     /* line the error must point at */
    const char *key;   /* key path the error must name */
    const char *words; /* a phrase the message must contain */
} bad_case;

static void test_bad_profiles_name_line_and_key(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {5, "peak_flops_bf17: 1e15", 5, "peak_flops_bf17", "unknown key"},
        {8, "hbm_bandwidth: -3e12", 8, "hbm_bandwidth", "out of range"},
        {13, "compute_efficiency: 1.5", 13, "compute_efficiency", "out of range"},
        {13, "compute_efficiency: 0", 13, "compute_efficiency", "out of range"},
        {11, "tdp_w: seven hundred", 11, "tdp_w", "expected"},
        {7, "hbm_bytes: 80 parsecs", 7, "hbm_bytes", "unit"},
        {7, "hbm_bytes: [80]", 7, "hbm_bytes", "expected"},
        {12, "price_per_hour: -1", 12, "price_per_hour", "out of range"},
        {13, "link_latency: 3 fortnights", 13, "link_latency", "unit"},
        {1, "schema_version: 2", 1, "schema_version", "schema_version"},
        {13, "reserve_bytes: 81GiB", 13, "reserve_bytes", "smaller than hbm_bytes"},
        {15, "  hbm_bandwith: \"typo\"", 15, "sources.hbm_bandwith", "unknown key"},
        {15, "  hbm_bytes: [1, 2]", 15, "sources.hbm_bytes", "expected"},
        {9, "tdp_w: 100", 11, "tdp_w", "duplicate"},
    };
    char buf[2048];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bad_case *c = &cases[i];
        profile_text(c->line, c->repl, buf, sizeof buf);
        ss_hw hw;
        memset(&hw, 0x5a, sizeof hw);
        ss_hw before = hw;
        ss_diag d;
        ss_rc rc = parse_text("<test>", buf, &hw, &d);
        if (rc != SS_ERR_INVALID || d.line != c->want_line || strcmp(d.key, c->key) != 0 ||
            !strstr(d.msg, c->words)) {
            char msg[2048];
            ss_diag_format(&d, msg, sizeof msg);
            fail_msg("case '%s': rc %d, got \"%s\"", c->repl, rc, msg);
        }
        assert_string_equal(d.file, "<test>");
        assert_memory_equal(&hw, &before, sizeof hw);
    }
}

static void test_missing_required_key(void **state)
{
    (void)state;
    char buf[2048];
    profile_text(5, "# peak_flops_bf16 removed", buf, sizeof buf);
    ss_hw hw;
    ss_diag d;
    assert_int_equal(parse_text("<test>", buf, &hw, &d), SS_ERR_INVALID);
    assert_string_equal(d.key, "peak_flops_bf16");
    assert_non_null(strstr(d.msg, "missing"));
}

static void test_name_must_match_file(void **state)
{
    (void)state;
    char buf[2048];
    profile_text(0, NULL, buf, sizeof buf);
    ss_hw hw;
    ss_diag d;
    assert_int_equal(parse_text("profiles/other-gpu.yaml", buf, &hw, &d), SS_ERR_INVALID);
    assert_int_equal(d.line, 2);
    assert_string_equal(d.key, "name");
    assert_int_equal(parse_text("profiles/test-gpu.yaml", buf, &hw, &d), SS_OK);
}

/* A user profile on disk, by relative path under base_dir and by absolute path. */
static void test_load_user_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/ss_test_hw_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], buf[2048];
    snprintf(path, sizeof path, "%s/test-gpu.yaml", dir);
    profile_text(0, NULL, buf, sizeof buf);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(buf, f);
    fclose(f);

    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("test-gpu.yaml", dir, &hw, &d), SS_OK);
    assert_string_equal(hw.name, "test-gpu");
    assert_int_equal(ss_hw_load(path, "/nonexistent", &hw, &d), SS_OK);
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("missing.yaml", dir, &hw, &d), SS_ERR_IO);

    /* A profile that fails to parse names its file and line and leaves *out as it was. */
    profile_text(8, "hbm_bandwidth: fast", buf, sizeof buf);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(buf, f);
    fclose(f);
    ss_hw before = hw;
    ss_diag_clear(&d);
    assert_int_equal(ss_hw_load("test-gpu.yaml", dir, &hw, &d), SS_ERR_INVALID);
    assert_int_equal(d.line, 8);
    assert_string_equal(d.file, path);
    assert_memory_equal(&hw, &before, sizeof hw);
    unlink(path);
    rmdir(dir);
}

static void test_list(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    ss_hw_list(f);
    fclose(f);
    for (int i = 0; builtin_names[i]; i++) assert_non_null(strstr(text, builtin_names[i]));
    assert_null(strstr(text, "invalid"));
    assert_null(strstr(text, "aliases"));
    free(text);
}

/* docs/hardware.md carries the schema table that ss_hw_doc_markdown writes from the key
 * table; a key added to hw.c without regenerating the docs fails here. Tests run from the
 * repository root (tests/CMakeLists.txt). */
static void test_docs_schema_current(void **state)
{
    (void)state;
    char *table = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&table, &len);
    assert_non_null(f);
    ss_hw_doc_markdown(f);
    fclose(f);
    assert_non_null(strstr(table, "| `peak_flops_bf16` |"));

    FILE *doc = fopen("docs/hardware.md", "rb");
    if (!doc) fail_msg("cannot open docs/hardware.md (tests run from the repository root)");
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    size_t n = fread(text, 1, (1 << 20) - 1, doc);
    fclose(doc);
    assert_true(n > 0);
    if (!strstr(text, table))
        fail_msg("docs/hardware.md is out of date; replace its schema table with:\n%s", table);
    free(text);
    free(table);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_builtin_loads),
        cmocka_unit_test(test_every_value_has_a_source),
        cmocka_unit_test(test_datasheet_figures),
        cmocka_unit_test(test_peak_flops_fallback),
        cmocka_unit_test(test_aliases_resolve),
        cmocka_unit_test(test_alias_table_consistent),
        cmocka_unit_test(test_unknown_name_lists_builtins),
        cmocka_unit_test(test_good_profile_and_defaults),
        cmocka_unit_test(test_bad_profiles_name_line_and_key),
        cmocka_unit_test(test_missing_required_key),
        cmocka_unit_test(test_name_must_match_file),
        cmocka_unit_test(test_load_user_file),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_docs_schema_current),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
