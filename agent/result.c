/* SPDX-License-Identifier: ISC */
/* result.c - the string table of check results (see result.h). */
#include <config.h>

#include <string.h>

#include "result.h"

static const struct {
	const char *name;
	enum result_class cls;
} results[RES__COUNT] = {
#define X(code, name, cls) [code] = {name, cls},
    CHECK_RESULTS(X)
#undef X
};

const char *result_name(enum check_result_code code)
{
	if ((unsigned)code >= RES__COUNT)
		return "INVALID";
	return results[code].name;
}

enum result_class result_class(enum check_result_code code)
{
	if ((unsigned)code >= RES__COUNT)
		return RESULT_FAIL;
	return results[code].cls;
}
