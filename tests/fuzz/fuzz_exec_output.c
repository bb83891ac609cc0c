/* SPDX-License-Identifier: ISC */
/*
 * fuzz_exec_output.c - libFuzzer harness for a Nagios plugin's output
 * becoming a check result and detail line (check_exec_judge).
 *
 * Input: byte 0 picks the exit status or killing signal, byte 1 the detail
 * buffer size, the rest is the plugin's stdout head. The detail must be
 * terminated inside its buffer, hold no newline, no NUL, no perfdata, and
 * the result must follow the Nagios exit code convention.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "check_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int64_t statuses[] = {0, 1, 2, 3, 4, 127, 255, -1, 126, 0x7fffffff};
	char detail[CHECK_DETAIL_MAX + 16];
	const char *out;
	size_t len, dsz, n;
	int64_t status;
	int sig;
	enum check_result_code rc, want;

	if (size < 2)
		return 0;
	status = statuses[(data[0] & 0x0f) % 10];
	sig = (data[0] & 0x80) ? (data[0] >> 4) & 0x07 : 0; /* 0: exited, else SIGHUP.. */
	dsz = 1 + data[1] % CHECK_DETAIL_MAX;
	out = (const char *)data + 2;
	len = size - 2;

	memset(detail, 'X', sizeof(detail));
	rc = check_exec_judge(status, sig, out, len, detail, dsz);
	n = strnlen(detail, dsz);
	if (n == dsz)
		abort(); /* not terminated inside the buffer */
	for (size_t i = dsz; i < sizeof(detail); i++)
		if (detail[i] != 'X')
			abort(); /* wrote past the size it was given */
	if (memchr(detail, '\n', n) != NULL)
		abort(); /* more than the first line */
	if (sig != 0)
		want = RES_EXEC_SIGNALED;
	else
		want = status == 0   ? RES_OK
		       : status == 1 ? RES_WARNING
		       : status == 2 ? RES_EXEC_CRITICAL
		                     : RES_EXEC_UNKNOWN;
	if (rc != want)
		abort();
	/* perfdata never reaches the detail: nothing after the first '|' */
	if (memchr(detail, '|', n) != NULL)
		abort();
	return 0;
}
