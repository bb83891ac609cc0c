/* SPDX-License-Identifier: ISC */
/*
 * ctl_client.c - a minimal control-socket client for the integration tests:
 * sends each argument as one request line and prints each response line.
 * Exit 0 when every response arrived, 1 on a connect or I/O error.
 *   ctl_client SOCKET '{"verb":"status"}' ...
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	FILE *in;
	char *line = NULL;
	size_t cap = 0;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: ctl_client SOCKET REQUEST...\n");
		return 2;
	}
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror(argv[1]);
		return 1;
	}
	in = fdopen(dup(fd), "r");
	for (int i = 2; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (write(fd, argv[i], n) != (ssize_t)n || write(fd, "\n", 1) != 1) {
			perror("write");
			return 1;
		}
		if (getline(&line, &cap, in) < 0) {
			fprintf(stderr, "ctl_client: no response to request %d\n", i - 1);
			return 1;
		}
		fputs(line, stdout);
	}
	free(line);
	fclose(in);
	close(fd);
	return 0;
}
