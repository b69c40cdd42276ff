/* The calibration readers on the real data in ../shared/data (registered only when that
 * folder exists at configure time; its path is argv[1]). Every source folder is read, and
 * the row counts are checked against the numbers its README states (exact where
 * the README gives an exact count, a range where it says "about"). The README is the
 * reference, not this reader's output: a count that changes means a reader lost or invented
 * rows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "hwprofiles/calib/meas.h"

static const char *root;

static void read_ok(ss_meas_table *t, const char *rel, int lenient)
{
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/%s", root, rel);
    ss_meas_table_init(t);
    ss_diag d;
    ss_diag_clear(&d);
    ss_meas_opts o = {.lenient = lenient};
    if (ss_meas_read_source_opts(t, spec, NULL, &o, &d)) {
        char msg[2048];
        ss_diag_format(&d, msg, sizeof msg);
        fail_msg("%s: %s", rel, msg);
    }
}

/* The source whose path ends with `suffix`. */
static uint32_t src(const ss_meas_table *t, const char *suffix)
{
    size_t n = strlen(suffix);
    for (size_t i = 0; i < t->nsources; i++) {
        size_t m = strlen(t->sources[i].path);
        if (m >= n && !strcmp(t->sources[i].path + m - n, suffix)) return (uint32_t)i;
    }
    fail_msg("no source %s", suffix);
    return 0;
}

/* Distinct file lines that gave rows (one line may give several rows, e.g. mlp.csv). */
static uint64_t lines_of(const ss_meas_table *t, uint32_t s)
{
    uint64_t n = 0;
    uint32_t last = 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->rows[i].src == s && t->rows[i].line != last) {
            n++;
            last = t->rows[i].line;
        }
    return n;
}

/* Lines of a (gzip or plain) text file, the last one counted without its newline. */
static uint64_t count_lines(const char *path)
{
    gzFile g = gzopen(path, "rb");
    assert_non_null(g);
    char buf[65536];
    int n, last = '\n';
    uint64_t lines = 0;
    while ((n = gzread(g, buf, sizeof buf)) > 0)
        for (int i = 0; i < n; i++) {
            lines += buf[i] == '\n';
            last = buf[i];
        }
    gzclose(g);
    return lines + (last != '\n');
}

static void test_aiconfigurator(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        uint64_t rows;
    } c[] = {
        {"h100_sxm/vllm-0.24.0/gemm_perf.csv.gz", 107188},
        {"h200_sxm/vllm-0.24.0/gemm_perf.csv.gz", 107225},
        {"a100_sxm/vllm-0.14.0/gemm_perf.csv.gz", 9240},
        {"rtx_pro_6000_server/vllm-0.19.0/gemm_perf.csv.gz", 114576},
        {"h100_sxm/vllm-0.24.0/context_attention_perf.csv.gz", 50830},
        {"h200_sxm/vllm-0.24.0/context_attention_perf.csv.gz", 50830},
        {"a100_sxm/vllm-0.14.0/context_attention_perf.csv.gz", 5457},
        {"rtx_pro_6000_server/vllm-0.19.0/context_attention_perf.csv.gz", 21816},
        {"h100_sxm/vllm-0.24.0/generation_attention_perf.csv.gz", 62166},
        {"h200_sxm/vllm-0.24.0/generation_attention_perf.csv.gz", 62166},
        {"a100_sxm/vllm-0.14.0/generation_attention_perf.csv.gz", 5431},
        {"rtx_pro_6000_server/vllm-0.19.0/generation_attention_perf.csv.gz", 16908},
        {"h100_sxm/vllm-0.24.0/moe_perf.csv.gz", 49862},
        {"h200_sxm/vllm-0.24.0/moe_perf.csv.gz", 48762},
        {"a100_sxm/vllm-0.14.0/moe_perf.csv.gz", 6360},
        {"rtx_pro_6000_server/vllm-0.19.0/moe_perf.csv.gz", 46494},
        {"h100_sxm/vllm-0.24.0/custom_allreduce_perf.csv", 138},
        {"h200_sxm/vllm-0.24.0/custom_allreduce_perf.csv", 138},
        {"a100_sxm/vllm-0.14.0/custom_allreduce_perf.csv", 138},
        {"rtx_pro_6000_server/vllm-0.19.0/custom_allreduce_perf.csv", 46},
        {"h100_sxm/nccl-2.29.2/nccl_perf.csv", 504},
        {"h200_sxm/nccl-2.29.2/nccl_perf.csv", 504},
        {"a100_sxm/nccl-2.27.3/nccl_perf.csv", 504},
        {"rtx_pro_6000_server/nccl-2.29.2/nccl_perf.csv", 504},
    };
    ss_meas_table t;
    read_ok(&t, "kernels/aiconfigurator", 0);
    size_t files = 0;
    for (size_t i = 0; i < t.nsources; i++) files += t.sources[i].rows > 0;
    assert_int_equal(files, sizeof c / sizeof *c);
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        const ss_meas_source *s = &t.sources[src(&t, c[i].file)];
        if (s->rows != c[i].rows)
            fail_msg("%s: %llu rows, README says %llu", c[i].file, (unsigned long long)s->rows,
                     (unsigned long long)c[i].rows);
    }
    assert_string_equal(t.sources[src(&t, "h200_sxm/vllm-0.24.0/gemm_perf.csv.gz")].gpu,
                        "h200-sxm");
    ss_meas_table_free(&t);
}

static void test_vidur(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, "kernels/vidur", 0);
    int mlp = 0;
    for (size_t i = 0; i < t.nsources; i++)
        if (strstr(t.sources[i].path, "/mlp.csv") && t.sources[i].rows) {
            mlp++;
            uint64_t lines = lines_of(&t, (uint32_t)i);
            const char *p = t.sources[i].path;
            if (strstr(p, "Meta-Llama-3-")) assert_int_equal(lines, 1824);
            else if (strstr(p, "phi-2")) assert_int_equal(lines, 261);
            else if (lines < 1000 || lines > 1100) fail_msg("%s: %llu rows, README says about 1,044",
                                                            p, (unsigned long long)lines);
        }
    assert_int_equal(mlp, 20);
    assert_int_equal(t.sources[src(&t, "network/a100_dgx/all_reduce.csv.gz")].rows, 6958);
    assert_int_equal(t.sources[src(&t, "network/a100_pairwise_nvlink/all_reduce.csv.gz")].rows, 4496);
    assert_int_equal(t.sources[src(&t, "network/h100_dgx/all_reduce.csv.gz")].rows, 2982);
    assert_int_equal(t.sources[src(&t, "cpu_overhead/a100/cpu_overheads.csv")].rows, 78);
    assert_int_equal(t.sources[src(&t, "cpu_overhead/a40/cpu_overheads.csv")].rows, 221);
    assert_string_equal(t.sources[src(&t, "cpu_overhead/a40/cpu_overheads.csv")].gpu, "a40");
    /* 16-GPU all-reduce on a100_dgx crosses nodes */
    int cross = 0;
    uint32_t s = src(&t, "network/a100_dgx/all_reduce.csv.gz");
    for (size_t i = 0; i < t.n; i++)
        if (t.rows[i].src == s && t.rows[i].gpus == 16) {
            assert_true(t.rows[i].flags & SS_MEAS_CROSS_NODE);
            cross++;
        }
    assert_true(cross > 0);
    ss_meas_table_free(&t);
}

static void test_frontier(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, "kernels/frontier", 0);
    uint32_t a = src(&t, "attention.csv.gz");
    assert_int_equal(lines_of(&t, a), 10972);
    assert_int_equal(lines_of(&t, src(&t, "Llama-2-7b-hf/mlp.csv")), 261);
    assert_string_equal(t.sources[a].gpu, "a800");
    ss_meas_table_free(&t);
}

static void test_llmservingsim(void **state)
{
    (void)state;
    ss_meas_table t;
    read_ok(&t, "kernels/llmservingsim", 0);
    int attn = 0;
    for (size_t i = 0; i < t.nsources; i++) {
        const ss_meas_source *s = &t.sources[i];
        if (strstr(s->path, "/attention.csv")) {
            attn++;
            /* every data line is one row */
            assert_int_equal(s->rows, count_lines(s->path) - 1);
            /* README: "about 19,000 rows per file" -- true of the RTXPRO6000 files; the
             * RTX4090 file is a smaller grid (8,643 rows; chunks 16-2048 only) */
            if (strstr(s->path, "RTXPRO6000") && (s->rows < 18000 || s->rows > 20000))
                fail_msg("%s: %llu rows, README says about 19,000", s->path,
                         (unsigned long long)s->rows);
            assert_string_equal(s->stack, "vllm-0.19-eager");
        }
        if (strstr(s->path, "/dense.csv")) {
            /* 152 token counts per operator: every family read has a multiple of 152 rows */
            uint64_t per_op[SS_FAM_COUNT];
            ss_meas_count_families(&t, (uint32_t)i, per_op);
            assert_true(s->rows > 0);
            for (int f = 0; f < SS_FAM_COUNT; f++) assert_int_equal(per_op[f] % 152, 0);
        }
    }
    assert_int_equal(attn, 7);
    ss_meas_table_free(&t);
}

static void test_infersim_apex_llmcompass(void **state)
{
    (void)state;
    char spec[1024], msg[2048];
    ss_meas_table t;
    ss_diag d;
    /* the README's quirks, reported precisely by default */
    snprintf(spec, sizeof spec, "%s/kernels/infersim", root);
    ss_meas_table_init(&t);
    ss_diag_clear(&d);
    assert_int_equal(ss_meas_read_source(&t, spec, NULL, &d), SS_ERR_INVALID);
    ss_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "mha/decode/h20/64-2-128.csv:1: no header line"));
    ss_meas_table_free(&t);
    snprintf(spec, sizeof spec, "%s/kernels/apex_plus", root);
    ss_diag_clear(&d);
    assert_int_equal(ss_meas_read_source(&t, spec, NULL, &d), SS_ERR_INVALID);
    ss_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "V100-PCIE-16GB/reduce_scatter.csv:135:"));
    assert_non_null(strstr(msg, "19 malformed rows in this file (lines 135-153)"));
    ss_meas_table_free(&t);
    /* lenient: everything else is read */
    read_ok(&t, "kernels/infersim", 1);
    assert_non_null(strstr(t.sources[src(&t, "mha/decode/h20/64-2-128.csv")].note, "lenient"));
    assert_int_equal(t.sources[src(&t, "mla/decode/h20/128-512-64.csv")].rows, 0);
    ss_meas_table_free(&t);
    read_ok(&t, "kernels/apex_plus", 1);
    uint32_t rs = src(&t, "V100-PCIE-16GB/reduce_scatter.csv");
    assert_int_equal(t.sources[rs].rows, 152 - 19);
    ss_meas_table_free(&t);
    read_ok(&t, "kernels/llmcompass", 0);
    assert_string_equal(t.sources[src(&t, "matmul_A100.csv")].gpu, "a100-80gb-sxm");
    assert_true(t.n > 30);
    ss_meas_table_free(&t);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_calib_shared /path/to/shared/data\n");
        return 2;
    }
    root = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_aiconfigurator),
        cmocka_unit_test(test_vidur),
        cmocka_unit_test(test_frontier),
        cmocka_unit_test(test_llmservingsim),
        cmocka_unit_test(test_infersim_apex_llmcompass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
