/*
 * anycastctl.c - the operator's tool: talks to the agent's control socket.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)) {
		printf("anycastctl %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, "usage: anycastctl [-V]\n");
	return 3;
}
