/*
** tests/preload/prog_echo.c: a TCP echo server and its clients on 127.0.0.1.
** Knows nothing of gort. The server listens on an ephemeral port, serves
** exactly NCLIENTS connections (one thread each) and stops; each client
** sends `requests` messages and checks every echo.
** Usage: prog_echo [requests-per-client]   (default 200)
** Prints "echo ok <bytes>" and exits 0 when every echo matched.
*/
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { NCLIENTS = 4, MSG = 64 };

static int echo_listen_fd;
static struct sockaddr_in echo_addr;
static long echo_requests = 200;
static int echo_failures;
static unsigned long echo_bytes;
static pthread_mutex_t echo_mu = PTHREAD_MUTEX_INITIALIZER;

static int echo_read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

__attribute__((noinline)) static void *echo_serve_conn(void *arg)
{
	int fd = (int)(long)arg;
	char buf[MSG];
	ssize_t r;
	while ((r = recv(fd, buf, sizeof buf, 0)) > 0)
		if (send(fd, buf, (size_t)r, 0) != r)
			break;
	close(fd);
	return NULL;
}

__attribute__((noinline)) static void *echo_server(void *arg)
{
	(void)arg;
	pthread_t t[NCLIENTS];
	for (int i = 0; i < NCLIENTS; i++) {
		int fd = accept(echo_listen_fd, NULL, NULL);
		if (fd < 0) {
			perror("accept");
			exit(2);
		}
		pthread_create(&t[i], NULL, echo_serve_conn, (void *)(long)fd);
	}
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(t[i], NULL);
	return NULL;
}

__attribute__((noinline)) static void *echo_client(void *arg)
{
	int id = (int)(long)arg, bad = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&echo_addr, sizeof echo_addr) != 0) {
		perror("connect");
		exit(2);
	}
	char out[MSG], in[MSG];
	for (long i = 0; i < echo_requests; i++) {
		snprintf(out, sizeof out, "client %d request %ld", id, i);
		if (send(fd, out, sizeof out, 0) != (ssize_t)sizeof out ||
		    echo_read_full(fd, in, sizeof in) != 0 || memcmp(in, out, sizeof out) != 0)
			bad++;
	}
	close(fd);
	pthread_mutex_lock(&echo_mu);
	echo_failures += bad;
	echo_bytes += (unsigned long)echo_requests * MSG;
	pthread_mutex_unlock(&echo_mu);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		echo_requests = atol(argv[1]);
	echo_listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	echo_addr.sin_family = AF_INET;
	echo_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	echo_addr.sin_port = 0;
	socklen_t len = sizeof echo_addr;
	if (bind(echo_listen_fd, (struct sockaddr *)&echo_addr, sizeof echo_addr) != 0 ||
	    listen(echo_listen_fd, NCLIENTS) != 0 ||
	    getsockname(echo_listen_fd, (struct sockaddr *)&echo_addr, &len) != 0) {
		perror("listen");
		return 2;
	}
	pthread_t srv, cl[NCLIENTS];
	pthread_create(&srv, NULL, echo_server, NULL);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_create(&cl[i], NULL, echo_client, (void *)(long)i);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(cl[i], NULL);
	pthread_join(srv, NULL);
	close(echo_listen_fd);
	printf("echo ok %lu\n", echo_bytes);
	return echo_failures == 0 ? 0 : 1;
}
