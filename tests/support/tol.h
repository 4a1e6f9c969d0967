/* Every margin of the suite in one place, each with the reason for its size. A comparison passes
 * when |got - want| <= ATOL + RTOL * |want| (check_close). Float32 carries about 7 digits (its
 * epsilon is 1.2e-7): a margin near 1e-7 relative says "the same arithmetic, rounded once
 * differently"; a larger one names what makes the difference larger. */
#ifndef CLAUG_TOL_H
#define CLAUG_TOL_H

/* ---- kernels against their plain-C references, on the device ------------------------------- */

/* The kernel does the reference's operations in the reference's order (a max, a mask, a sum of
 * one term, a comparison): the results are the same floats. */
#define TOL_EXACT_ATOL 0.0
#define TOL_EXACT_RTOL 0.0

/* CLBlast's GEMM sums a dense layer's products in its own tiled order, the reference in index
 * order: at most a few hundred products of O(1) values, each order rounding differently. */
#define TOL_GEMM_ATOL 1e-5
#define TOL_GEMM_RTOL 1e-5

/* The convolution's tiles sum (input channel, tap) pairs in blocks, the reference in one loop;
 * the weight gradient sums over the whole batch and every output pixel (thousands of terms). */
#define TOL_CONV_ATOL 1e-4
#define TOL_CONV_RTOL 1e-4

/* Softmax cross-entropy: the device's exp and log against libm's (OpenCL allows them a few ulp),
 * on losses of O(1); the logits' gradient is a difference of probabilities, whose absolute
 * floor is below the losses'. */
#define TOL_XENT_ATOL 1e-6
#define TOL_XENT_RTOL 1e-5
#define TOL_XENT_GRAD_ATOL 1e-7
#define TOL_XENT_GRAD_RTOL 1e-5

/* A float sum of up to 60,000 values, reduced in a tree, against the same sum in double. */
#define TOL_SUM_ATOL 0.0
#define TOL_SUM_RTOL 1e-6

/* Adam after a few steps against the reference: the device's sqrt and division may differ by an
 * ulp, compounded over the steps. The floors follow each buffer's scale: parameters O(1), first
 * moments O(g) ~ 0.1, second moments O(g^2) ~ 0.01 and below. */
#define TOL_ADAM_P_ATOL 1e-7
#define TOL_ADAM_P_RTOL 1e-6
#define TOL_ADAM_M_ATOL 1e-9
#define TOL_ADAM_M_RTOL 1e-5
#define TOL_ADAM_V_ATOL 1e-12
#define TOL_ADAM_V_RTOL 1e-5
/* The bias-corrected learning rate in float against its formula in double. */
#define TOL_ADAM_LR_ATOL 0.0
#define TOL_ADAM_LR_RTOL 1e-6
/* Adam's first step is -lr sign(g) exactly only as epsilon / |g| -> 0: with |g| from 1e-3 and
 * epsilon 1e-7, the step falls short of lr by up to 1e-4 relative; 1e-2 leaves room and still
 * catches a wrong sign or a wrong learning rate. */
#define TOL_ADAM_SIGN_ATOL 1e-7
#define TOL_ADAM_SIGN_RTOL 1e-2

/* Bilinear resampling of pixels in [0, 1]: the device's sin, cos and fused multiply-adds place a
 * sample a few ulp away from the reference's, which moves an interpolated pixel by about 1e-6. */
#define TOL_AUGMENT_ATOL 1e-5
#define TOL_AUGMENT_RTOL 0.0
/* Standardized pixels (about -2 to 10): the kernel's float tree sums and OpenCL's 2.5-ulp
 * division and 3-ulp sqrt against the reference's double sums and correctly rounded division,
 * a few float ulps of the values, on top of the resampling's 1e-6. */
#define TOL_STANDARDIZE_ATOL 1e-5
#define TOL_STANDARDIZE_RTOL 1e-5

/* ---- the C references' gradients against central finite differences ------------------------ */
/* A central difference with step h has truncation error O(h^2 f''') and rounding error about
 * eps_float |f| / h; each pair below is sized for the test's step and the operation's curvature. */

/* ReLU, away from its kink, and a bias add: piecewise linear, so only the rounding of the
 * difference quotient at h = 1e-2 remains (about 1e-5 relative). */
#define TOL_FD_RELU_ATOL 1e-5
#define TOL_FD_RELU_RTOL 1e-4
#define TOL_FD_LINEAR_ATOL 1e-4
#define TOL_FD_LINEAR_RTOL 1e-4

/* Max-pooling (values 0.01 apart, h = 1e-3) and the dense layer (h chosen so no pre-activation
 * crosses ReLU's kink): linear between kinks, but the loss sums many terms in float, so the
 * quotient's rounding error reaches 1e-3 at these steps. */
#define TOL_FD_PIECEWISE_ATOL 1e-3
#define TOL_FD_PIECEWISE_RTOL 1e-3

/* The convolution with ReLU, at h = 1e-3: the loss sums thousands of products, and a few
 * pre-activations within h of 0 bend the quotient. */
#define TOL_FD_CONV_ATOL 2e-3
#define TOL_FD_CONV_RTOL 1e-2

/* Softmax cross-entropy on logits in [-3, 3] at h = 1e-2: smooth, truncation error of
 * h^2 f''' / 6, a few 1e-5 of gradients that reach 1 / B. */
#define TOL_FD_XENT_ATOL 2e-5
#define TOL_FD_XENT_RTOL 1e-3

/* The whole model's backward pass on the device against differences of its own float loss with
 * step 1e-3 (test_backprop): the loss is float, so the quotient carries about 1e-4 / 1e-3 of
 * rounding, and layers stacked on layers add curvature; 3% relative still catches any wrong
 * term, which is off by its whole size. */
#define TOL_FD_MODEL_ATOL 1e-3
#define TOL_FD_MODEL_RTOL 3e-2

/* ---- claug against PyTorch (test_reference) ------------------------------------------------- */
/* The reference is PyTorch in float64, so each margin bounds claug's own float32 rounding, which
 * on PoCL came to about 1e-7 relative in every quantity; each margin leaves 30 to 100 times that
 * for devices that sum in other orders, and stays far below what a real fault moves (a wrong
 * layout, flatten order or Adam term is off by the quantity's whole size). The reference's batches
 * keep every ReLU input and pooling gap 2e-7 from a kink (tools/pytorch_reference.py), 20 times
 * the rounding seen, so no mask can switch. */

/* Logits of O(1) after five layers of float32 sums of up to 800 terms: 2e-7 seen. */
#define TOL_REF_LOGITS_ATOL 1e-5
#define TOL_REF_LOGITS_RTOL 1e-4
/* The mean cross-entropy of the batch, about 2.2: 1e-7 relative seen. */
#define TOL_REF_LOSS_ATOL 0.0
#define TOL_REF_LOSS_RTOL 1e-5
/* Gradients: the atol is this times the tensor's largest gradient (their scales differ by 100
 * between tensors, and most entries sit far below the largest); 1e-7 of it seen. */
#define TOL_REF_GRAD_ATOL 1e-4
#define TOL_REF_GRAD_RTOL 1e-3
/* The losses after Adam steps: a first step moves every parameter by about lr whatever its
 * gradient's size, so a gradient within rounding of 0 can move its parameter either way; 3e-6
 * relative seen. */
#define TOL_REF_STEPS_ATOL 0.0
#define TOL_REF_STEPS_RTOL 1e-4

/* ---- printed numbers ---------------------------------------------------------------------- */

/* The same metric printed with 4 decimals and written with 6 (the history CSV): they differ by
 * the 4-decimal rounding, at most 5e-5. */
#define TOL_PRINTED_4DP 1e-4

/* The SVG writes coordinates with 2 decimals: a mapped value lies within 0.005 px of where
 * the axes put it. */
#define TOL_SVG_COORD 0.0051

#endif
