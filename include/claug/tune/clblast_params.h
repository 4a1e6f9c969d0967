/* CLBlast's current parameters of one kernel, through its C++ API: the C API can override
 * parameters but not read them, so without this a process could never go back to CLBlast's own. */
#ifndef CLAUG_CLBLAST_PARAMS_H
#define CLAUG_CLBLAST_PARAMS_H

#include <CL/cl.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Single precision, kernel e.g. "XgemmDirect", "Xgemm", "GemmRoutine": up to max names (each
 * under namelen bytes, sorted) and values; *n gets the count. CLBlast's status, 0 on success;
 * CLBlastInsufficientMemoryTemp (-2050) when they do not fit. */
int clblast_retrieve_params(cl_device_id device, const char *kernel, int max, size_t namelen, char *names,
                            size_t *values, int *n);

#ifdef __cplusplus
}
#endif

#endif
