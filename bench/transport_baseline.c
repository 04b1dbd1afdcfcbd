/*
 * C baseline for bench/transport.ts: the same workloads over usrsctp, written the way a C
 * program would use it (threaded stack, blocking one-to-many sockets, no upcalls).
 * bench/transport.ts compiles it into tests/tmp/ (never committed):
 *
 *   gcc -O2 -o tests/tmp/transport_baseline bench/transport_baseline.c -lusrsctp
 *
 *   transport_baseline server MODE PORT LOCAL_UDP
 *   transport_baseline client MODE PORT LOCAL_UDP REMOTE_UDP TEST COUNT SIZE
 *
 * MODE: raw | udp (LOCAL_UDP/REMOTE_UDP are ignored for raw). TEST: rtt | flood. Everything on
 * 127.0.0.1. The server echoes every message on stream 0 in the rtt test and answers the last
 * message of a flood (PPID 2) with one message. The client prints one JSON line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <usrsctp.h>

static double now_us(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static struct socket *make_socket(void) {
	struct socket *so = usrsctp_socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP, NULL, NULL, 0, NULL);
	if (so == NULL) { perror("usrsctp_socket"); exit(1); }
	int on = 1;
	usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof(on));
	usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof(on));
	struct sctp_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.se_type = SCTP_ASSOC_CHANGE;
	ev.se_on = 1;
	usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_EVENT, &ev, sizeof(ev));
	return so;
}

static struct sockaddr_in loopback(uint16_t port) {
	struct sockaddr_in a;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* Blocking receive of the next data message (notifications are skipped; COMM_UP sets *assoc). */
static ssize_t receive(struct socket *so, char *buf, size_t len, struct sctp_rcvinfo *info,
                       sctp_assoc_t *assoc) {
	for (;;) {
		socklen_t infolen = sizeof(*info);
		unsigned int infotype = 0;
		int flags = 0;
		ssize_t n = usrsctp_recvv(so, buf, len, NULL, NULL, info, &infolen, &infotype, &flags);
		if (n <= 0) return n;
		if (flags & MSG_NOTIFICATION) {
			union sctp_notification *sn = (union sctp_notification *)buf;
			if (sn->sn_header.sn_type == SCTP_ASSOC_CHANGE &&
			    sn->sn_assoc_change.sac_state == SCTP_COMM_UP && assoc != NULL) {
				*assoc = sn->sn_assoc_change.sac_assoc_id;
			}
			continue;
		}
		return n;
	}
}

static void send_msg(struct socket *so, const char *buf, size_t len, sctp_assoc_t assoc,
                     uint32_t ppid) {
	struct sctp_sndinfo si;
	memset(&si, 0, sizeof(si));
	si.snd_ppid = htonl(ppid);
	si.snd_assoc_id = assoc;
	if (usrsctp_sendv(so, buf, len, NULL, 0, &si, sizeof(si), SCTP_SENDV_SNDINFO, 0) < 0) {
		perror("usrsctp_sendv");
		exit(1);
	}
}

int main(int argc, char **argv) {
	if (argc < 5) { fprintf(stderr, "usage: see source\n"); return 2; }
	int server = strcmp(argv[1], "server") == 0;
	int raw = strcmp(argv[2], "raw") == 0;
	uint16_t port = (uint16_t)atoi(argv[3]);
	uint16_t local_udp = raw ? 0 : (uint16_t)atoi(argv[4]);
	usrsctp_init(local_udp, NULL, NULL);
	/* Several stacks share this host; as root, usrsctp opens raw sockets in UDP mode too. */
	usrsctp_sysctl_set_sctp_blackhole(2);
	struct socket *so = make_socket();
	char *buf = malloc(1 << 20);
	struct sctp_rcvinfo info;
	if (server) {
		struct sockaddr_in a = loopback(port);
		if (usrsctp_bind(so, (struct sockaddr *)&a, sizeof(a)) < 0) { perror("bind"); return 1; }
		usrsctp_listen(so, 16);
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			ssize_t n = receive(so, buf, 1 << 20, &info, NULL);
			if (n <= 0) break;
			uint32_t ppid = ntohl(info.rcv_ppid);
			if (ppid == 1) send_msg(so, buf, (size_t)n, info.rcv_assoc_id, 1); /* rtt echo */
			else if (ppid == 2) send_msg(so, buf, 4, info.rcv_assoc_id, 2);    /* flood end */
			else if (ppid == 3) break;                                         /* quit */
		}
	} else {
		uint16_t remote_udp = (uint16_t)atoi(argv[5]);
		const char *test = argv[6];
		long count = atol(argv[7]);
		size_t size = (size_t)atol(argv[8]);
		if (!raw) {
			struct sctp_udpencaps enc;
			memset(&enc, 0, sizeof(enc));
			enc.sue_port = htons(remote_udp);
			usrsctp_setsockopt(so, IPPROTO_SCTP, SCTP_REMOTE_UDP_ENCAPS_PORT, &enc, sizeof(enc));
		}
		struct sockaddr_in any = loopback(0);
		usrsctp_bind(so, (struct sockaddr *)&any, sizeof(any));
		struct sockaddr_in a = loopback(port);
		sctp_assoc_t assoc = 0;
		if (usrsctp_connectx(so, (struct sockaddr *)&a, 1, &assoc) < 0 && errno != EINPROGRESS) {
			perror("connect");
			return 1;
		}
		memset(buf, 0x5a, size);
		if (strcmp(test, "rtt") == 0) {
			double *rtt = malloc(sizeof(double) * (size_t)count);
			double total = 0;
			/* warm-up */
			send_msg(so, buf, size, assoc, 1);
			receive(so, buf, 1 << 20, &info, &assoc);
			for (long i = 0; i < count; i++) {
				double t0 = now_us();
				send_msg(so, buf, size, info.rcv_assoc_id, 1);
				receive(so, buf, 1 << 20, &info, &assoc);
				rtt[i] = now_us() - t0;
				total += rtt[i];
			}
			qsort(rtt, (size_t)count, sizeof(double), cmp);
			printf("{\"rttAvgUs\":%.1f,\"rttP50Us\":%.1f,\"rttP99Us\":%.1f}\n", total / count,
			       rtt[count / 2], rtt[(long)(count * 0.99)]);
		} else {
			send_msg(so, buf, 4, assoc, 1); /* warm-up echo */
			receive(so, buf, 1 << 20, &info, &assoc);
			sctp_assoc_t id = info.rcv_assoc_id;
			double t0 = now_us();
			for (long i = 0; i < count; i++) send_msg(so, buf, size, id, i == count - 1 ? 2 : 0);
			receive(so, buf, 1 << 20, &info, &assoc);
			double seconds = (now_us() - t0) / 1e6;
			printf("{\"messagesPerSecond\":%.0f,\"megabytesPerSecond\":%.2f}\n", count / seconds,
			       count * (double)size / seconds / 1e6);
		}
		fflush(stdout);
		send_msg(so, buf, 4, info.rcv_assoc_id, 3);
	}
	usrsctp_close(so);
	while (usrsctp_finish() != 0) {
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	free(buf);
	return 0;
}
