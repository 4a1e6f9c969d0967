/* curves.svg from the synthetic histories, either run missing, one epoch, constant, NaN,
 * infinite and extreme values, and a long run: each parsed and every marker, vertex and tick
 * mapped back through the axes it declares (svg_check). */
/* ctest: labels=host timeout=60 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "report_fixture.h"
#include "svg_check.h"
#include "tol.h"

static void test_svg(const history *plain, const history *augmented) {
    char *svg = plot_curves_svg(plain, augmented);
    check_svg(svg, plain, augmented, "svg (both runs)");
    free(svg);
    svg = plot_curves_svg(plain, NULL);
    check_svg(svg, plain, NULL, "svg (augmented missing)");
    free(svg);
    svg = plot_curves_svg(NULL, augmented);
    check_svg(svg, NULL, augmented, "svg (plain missing)");
    free(svg);
    svg = plot_curves_svg(NULL, NULL);
    check_svg(svg, NULL, NULL, "svg (no runs)");
    free(svg);
}

/* One epoch: single markers centred on the x axis; a constant metric still gets a proper
 * value axis; a series with no finite value draws nothing; infinities are skipped. */
static void test_svg_edge_cases(void) {
    history one, odd;
    make_history(&one, "plain", plain_epochs, 1);
    char *svg = plot_curves_svg(&one, NULL);
    check_svg(svg, &one, NULL, "svg (one epoch)");
    xml_doc d;
    char err[256];
    if (xml_parse(&d, svg, err, sizeof err)) {
        int rect, circle;
        svg_find(&d, -1, "rect", "plot-area", &rect, 1);
        svg_find(&d, -1, "circle", NULL, &circle, 1);
        double centre = svg_attr_num(&d.elems[rect], "x") + svg_attr_num(&d.elems[rect], "width") / 2;
        CHECK(fabs(svg_attr_num(&d.elems[circle], "cx") - centre) < TOL_SVG_COORD, "one epoch: marker not centred");
    }
    xml_free(&d);
    free(svg);

    epoch_metrics e[4];
    for (int i = 0; i < 4; i++) e[i] = (epoch_metrics){0.5, 0.75, NAN, 0.75, 1, 1, 1};
    e[1].loss = INFINITY;
    e[2].accuracy = -INFINITY;
    make_history(&odd, "odd <&\"'\x01 name", e, 4);
    svg = plot_curves_svg(NULL, &odd);
    check_svg(svg, NULL, &odd, "svg (constant, NaN, inf)");
    free(svg);

    /* Extremes: huge, tiny and subnormal values, a negative "accuracy" above 1 elsewhere. */
    epoch_metrics x[4] = {
        {1e300, 4.9e-324, 1e12, -3, 1, 1, 1},
        {1e-300, 0, 1e12, 1, 1, 1, 1},
        {0, 0, NAN, 0.5, 1, 1, 1},
        {-1e300, 4.9e-324, 1e12, 2, 1, 1, 1},
    };
    history extreme;
    make_history(&extreme, "extreme", x, 4);
    svg = plot_curves_svg(&extreme, NULL);
    check_svg(svg, &extreme, NULL, "svg (extreme values)");
    free(svg);
    history_free(&extreme);
    /* A long run: x ticks at a step of 5, from 5 (not 0); a loss near 0 and an accuracy near 1,
     * where the axis margin must not go below 0 or above 1. */
    history long_run;
    history_init(&long_run, "long", 37, 60000, 32);
    for (int i = 0; i < 37; i++) {
        double t = i / 36.0;
        history_add(&long_run, &(epoch_metrics){0.6 * exp(-4 * t) + 0.005, 0.84 + 0.155 * t, 0.33 + 0.04 * t * t,
                                                0.87 + 0.04 * t, 1, 1, 1});
    }
    svg = plot_curves_svg(&long_run, &one);
    check_svg(svg, &long_run, &one, "svg (37 and 1 epochs)");
    free(svg);
    history_free(&long_run);
    history_free(&one);
    history_free(&odd);
}

int main(void) {
    history plain, augmented;
    fixture_histories(&plain, &augmented);
    test_svg(&plain, &augmented);
    test_svg_edge_cases();
    fixture_free(&plain, &augmented);
    return check_done("test_report_svg");
}
