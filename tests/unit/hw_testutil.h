/* Helpers shared by the hardware-profile and cost-model unit tests (test_hw.c,
 * test_cost_roofline.c). Include after <cmocka.h>. */
#ifndef SS_TESTS_HW_TESTUTIL_H
#define SS_TESTS_HW_TESTUTIL_H

#include <math.h>

#include "hwprofiles/hw.h"

/* The built-in profile `name`, or the test fails with the loader's message. */
static inline ss_hw load_ok(const char *name)
{
    ss_hw hw;
    ss_diag d;
    ss_diag_clear(&d);
    ss_rc rc = ss_hw_load(name, NULL, &hw, &d);
    if (rc != SS_OK) {
        char msg[2048];
        ss_diag_format(&d, msg, sizeof msg);
        fail_msg("loading '%s': %s", name, msg);
    }
    return hw;
}

/* a and b agree within the relative tolerance tol of the larger. */
static inline int rel_close(double a, double b, double tol)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= tol * scale;
}

#endif
