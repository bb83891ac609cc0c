/* SPDX-License-Identifier: ISC */
/*
 * notify_listen.c - a fake systemd for integration tests: binds a Unix
 * datagram socket at PATH and prints each notification it receives as one
 * line "<monotonic seconds> <sender pid> <payload>", newlines in the payload
 * shown as '|'. Runs until SIGTERM or SIGINT.
 */
#include <config.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t done;

static void on_signal(int sig)
{
	done = sig;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct sigaction sact = {.sa_handler = on_signal};
	int fd, one = 1;

	if (argc != 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notify_listen PATH (shorter than %zu bytes)\n",
		        sizeof(sa.sun_path));
		return 2;
	}
	/* no SA_RESTART: the signal interrupts recvmsg() */
	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGINT, &sact, NULL);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("notify_listen");
		return 1;
	}
	while (!done) {
		char buf[8192], ctl[CMSG_SPACE(sizeof(struct ucred))];
		struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf) - 1};
		struct msghdr mh = {.msg_iov = &iov,
		                    .msg_iovlen = 1,
		                    .msg_control = ctl,
		                    .msg_controllen = sizeof(ctl)};
		struct cmsghdr *c;
		struct ucred uc = {0};
		struct timespec ts;
		ssize_t n = recvmsg(fd, &mh, 0);

		if (n < 0)
			continue;
		buf[n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				buf[i] = '|';
		c = CMSG_FIRSTHDR(&mh);
		if (c != NULL && c->cmsg_type == SCM_CREDENTIALS)
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
		clock_gettime(CLOCK_MONOTONIC, &ts);
		printf("%.3f %ld %s\n", (double)ts.tv_sec + (double)ts.tv_nsec / 1e9, (long)uc.pid,
		       buf);
		fflush(stdout);
	}
	unlink(argv[1]);
	return 0;
}
