// Connect-request-response-close loops for the datapath traffic benchmark.
// Written in C because Node's own per-connection cost (event loop, socket
// objects, promise plumbing: tens of microseconds) would hide the very
// differences the benchmark measures (a few microseconds per connection for
// a linear iptables chain vs a hash lookup). Built with gcc at bench time.
//
//   crr server <port>                       accept, read 1 byte, write 1 byte, close; forever
//   crr client <ip> <port> <count> <secs>   <count> sequential connections (or until <secs>);
//                                           prints "ok=<n> failed=<n> seconds=<s> p50_us=<u> p99_us=<u>"
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int serve(int port)
{
	int listener = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (bind(listener, (struct sockaddr *)&addr, sizeof(addr)) || listen(listener, 1024)) {
		perror("bind/listen");
		return 1;
	}
	printf("listening %d\n", port);
	fflush(stdout);
	for (;;) {
		int conn = accept(listener, NULL, NULL);
		if (conn < 0)
			continue;
		char byte;
		if (read(conn, &byte, 1) == 1)
			(void)!write(conn, &byte, 1);
		close(conn);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int one_connection(const struct sockaddr_in *dst)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	struct timeval tv = { .tv_sec = 2 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int ok = -1;
	char byte = 'x';
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) == 0 && write(fd, &byte, 1) == 1 &&
	    read(fd, &byte, 1) == 1)
		ok = 0;
	close(fd);
	return ok;
}

static int client(const char *ip, int port, long count, double max_seconds)
{
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, ip, &dst.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", ip);
		return 1;
	}
	double *lat = calloc(count, sizeof(double));
	long ok = 0, failed = 0;
	double start = now_seconds();
	for (long i = 0; i < count; i++) {
		double t0 = now_seconds();
		if (t0 - start > max_seconds)
			break;
		if (one_connection(&dst) == 0)
			lat[ok++] = (now_seconds() - t0) * 1e6;
		else
			failed++;
	}
	double elapsed = now_seconds() - start;
	qsort(lat, ok, sizeof(double), cmp_double);
	printf("ok=%ld failed=%ld seconds=%.6f p50_us=%.1f p99_us=%.1f\n", ok, failed, elapsed,
	       ok ? lat[ok / 2] : 0.0, ok ? lat[(ok * 99) / 100] : 0.0);
	free(lat);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 3 && strcmp(argv[1], "server") == 0)
		return serve(atoi(argv[2]));
	if (argc == 6 && strcmp(argv[1], "client") == 0)
		return client(argv[2], atoi(argv[3]), atol(argv[4]), atof(argv[5]));
	fprintf(stderr, "usage: crr server <port> | crr client <ip> <port> <count> <seconds>\n");
	return 2;
}
