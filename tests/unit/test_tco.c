/* Unit tests for hwprofiles/tco.c: cost arithmetic on hand-checked cases, the `cost:`
 * section's checks, and instances = ceil(target / capacity).
 *
 * Hand-checked case (worked on paper, not copied from the code's output):
 *   2 GPUs per instance at 2.00 $/GPU-h, 3 instances       -> 12.00 $/h
 *   per instance 1,000 output tok/s, 4,000 total tok/s     -> 3 x 3.6e6 = 10.8e6 output tok/h
 *   $/M output tokens = 12 / 10.8 = 1.1111...; $/M total = 12 / 43.2 = 0.27777...
 *   power: 500 W TDP x 0.8 busy x PUE 1.25 = 500 W per GPU, 6 GPUs = 3,000 W
 *   tokens/J: 3,000 output tok/s / 3,000 W = 1.0; total 12,000 / 3,000 = 4.0
 * Ownership: capex 26,280 $ over 3 years = 26,280 / 26,280 h = 1.00 $/GPU-h;
 *   energy 0.5 kW x 0.20 $/kWh = 0.10 $/GPU-h -> 1.10 $/GPU-h, x 6 GPUs = 6.60 $/h. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "hwprofiles/tco.h"

static ss_hw fake_hw(void)
{
    ss_hw hw;
    memset(&hw, 0, sizeof hw);
    snprintf(hw.name, sizeof hw.name, "fake-gpu");
    hw.tdp_w = 500;
    hw.price_per_hour = 2.0;
    snprintf(hw.sources, sizeof hw.sources, "tdp_w: paper\nprice_per_hour: hand-made, 2026-01\n");
    return hw;
}

static const ss_tco_load load3 = {.gpus_per_instance = 2, .instances = 3, .output_tok_s = 1000,
                                  .total_tok_s = 4000, .busy_fraction = 0.8};

static void test_rent_hand_checked(void **state)
{
    (void)state;
    ss_hw hw = fake_hw();
    ss_tco_cfg c;
    ss_tco_defaults(&c);
    c.pue = 1.25;
    ss_tco t;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_tco_compute(&hw, &c, &load3, &t, &d), SS_OK);
    assert_false(t.owned);
    assert_true(fabs(t.usd_per_gpu_hour - 2.0) < 1e-12);
    assert_true(fabs(t.usd_per_hour - 12.0) < 1e-12);
    assert_true(fabs(t.usd_per_mtok_output - 12.0 / 10.8) < 1e-12);
    assert_true(fabs(t.usd_per_mtok_total - 12.0 / 43.2) < 1e-12);
    assert_true(fabs(t.power_w_per_gpu - 500.0) < 1e-9);
    assert_true(fabs(t.output_tok_per_joule - 1.0) < 1e-12);
    assert_true(fabs(t.total_tok_per_joule - 4.0) < 1e-12);
    /* the price's provenance is the profile's source line */
    assert_non_null(strstr(t.price_source, "hand-made, 2026-01"));
}

static void test_own_hand_checked(void **state)
{
    (void)state;
    ss_hw hw = fake_hw();
    ss_tco_cfg c;
    ss_tco_defaults(&c);
    c.pue = 1.25;
    c.capex = 26280;
    c.amortisation_years = 3;
    c.usd_per_kwh = 0.20;
    ss_tco t;
    assert_int_equal(ss_tco_compute(&hw, &c, &load3, &t, NULL), SS_OK);
    assert_true(t.owned);
    assert_true(fabs(t.capex_per_gpu_hour - 1.0) < 1e-12);
    assert_true(fabs(t.energy_per_gpu_hour - 0.10) < 1e-12);
    assert_true(fabs(t.usd_per_hour - 6.60) < 1e-12);
    assert_true(fabs(t.usd_per_mtok_output - 6.6 / 10.8) < 1e-12);
    /* a fixed utilisation replaces the measured one: 500 x 0.5 x 1.25 = 312.5 W */
    c.utilisation = 0.5;
    assert_int_equal(ss_tco_compute(&hw, &c, &load3, &t, NULL), SS_OK);
    assert_true(fabs(t.power_w_per_gpu - 312.5) < 1e-9);
    assert_true(fabs(t.energy_per_gpu_hour - 0.0625) < 1e-12);
}

static void test_override_price_and_errors(void **state)
{
    (void)state;
    ss_hw hw = fake_hw();
    ss_tco_cfg c;
    ss_tco_defaults(&c);
    c.price_per_hour = 3.0;
    ss_tco t;
    assert_int_equal(ss_tco_compute(&hw, &c, &load3, &t, NULL), SS_OK);
    assert_true(fabs(t.usd_per_hour - 18.0) < 1e-12);
    /* no price at all is an error, never a silent 0 $/Mtok */
    hw.price_per_hour = 0;
    ss_tco_defaults(&c);
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_tco_compute(&hw, &c, &load3, &t, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "no price"));
    /* no tokens: error */
    hw.price_per_hour = 2;
    ss_tco_load z = load3;
    z.output_tok_s = 0;
    assert_int_equal(ss_tco_compute(&hw, &c, &z, &t, NULL), SS_ERR_INVALID);
}

static void test_instances(void **state)
{
    (void)state;
    assert_int_equal(ss_tco_instances(20, 10), 2);
    assert_int_equal(ss_tco_instances(20, 20.0 / 3.0), 3); /* not 4 from rounding */
    assert_int_equal(ss_tco_instances(21, 10), 3);
    assert_int_equal(ss_tco_instances(0.5, 10), 1);
    assert_int_equal(ss_tco_instances(10, 0), 0);
}

static void test_parse(void **state)
{
    (void)state;
    const char *y = "cost:\n  capex: 30000\n  pue: 1.2\n  utilisation: 0.7\n";
    ss_doc *doc = NULL;
    ss_diag d;
    ss_diag_clear(&d);
    assert_int_equal(ss_doc_load_string("t.yaml", y, strlen(y), &doc, &d), SS_OK);
    yaml_node_t *root = ss_doc_root(doc);
    ss_tco_cfg c;
    assert_int_equal(ss_tco_parse(doc, ss_node_get(doc, root, "cost"), root, "cost", &c, &d),
                     SS_OK);
    assert_true(c.capex == 30000 && c.pue == 1.2 && c.utilisation == 0.7);
    assert_true(c.amortisation_years == 4 && c.usd_per_kwh == 0.10); /* defaults kept */
    ss_doc_free(doc);

    const char *bad = "cost:\n  pue: 0.5\n";
    ss_diag_clear(&d);
    assert_int_equal(ss_doc_load_string("b.yaml", bad, strlen(bad), &doc, &d), SS_OK);
    root = ss_doc_root(doc);
    assert_int_equal(ss_tco_parse(doc, ss_node_get(doc, root, "cost"), root, "cost", &c, &d),
                     SS_ERR_INVALID);
    char msg[2048];
    ss_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "b.yaml:2:"));
    assert_non_null(strstr(msg, "cost.pue"));
    ss_doc_free(doc);

    const char *bad2 = "cost:\n  utilisation: most\n";
    ss_diag_clear(&d);
    assert_int_equal(ss_doc_load_string("c.yaml", bad2, strlen(bad2), &doc, &d), SS_OK);
    root = ss_doc_root(doc);
    assert_int_equal(ss_tco_parse(doc, ss_node_get(doc, root, "cost"), root, "cost", &c, &d),
                     SS_ERR_INVALID);
    ss_diag_format(&d, msg, sizeof msg);
    assert_non_null(strstr(msg, "c.yaml:2:"));
    assert_non_null(strstr(msg, "cost.utilisation"));
    ss_doc_free(doc);

    ss_tco_defaults(&c);
    ss_diag_clear(&d);
    assert_int_equal(ss_tco_parse_spec("price_per_hour=1.5,utilisation=measured", &c, &d), SS_OK);
    assert_true(c.price_per_hour == 1.5 && c.utilisation < 0);
    assert_int_equal(ss_tco_parse_spec("price=1.5", &c, &d), SS_ERR_INVALID);
    assert_non_null(strstr(d.msg, "unknown key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rent_hand_checked), cmocka_unit_test(test_own_hand_checked),
        cmocka_unit_test(test_override_price_and_errors), cmocka_unit_test(test_instances),
        cmocka_unit_test(test_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
