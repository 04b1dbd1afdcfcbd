/*
 * C baseline for bench/transport_kernel.sh: the same echo/count protocol and measurements as
 * bench/transport_kernel_run.ts, over a one-to-many kernel SCTP socket with libsctp.
 *
 *   transport_kernel_echo server ADDRESS PORT
 *   transport_kernel_echo client ADDRESS PORT RTT_COUNT BULK_COUNT SIZE
 *
 * Protocol (PPID in network byte order): 1 = echo this message; 3 = count it; 2 = reply (PPID
 * 2) with the 4-byte count of PPID-3 messages since the last PPID 2, then reset the count.
 * The client prints one JSON line: RTT percentiles (ping-pong, one message in flight) and the
 * rate of one-way messages (BULK_COUNT messages, then a PPID-2 round trip).
 *
 * Build: gcc -O2 -o transport_kernel_echo transport_kernel_echo.c -lsctp
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/sctp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int open_socket(void) {
  int fd = socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP);
  if (fd < 0) die("socket");
  int on = 1;
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) < 0) die("SCTP_RECVRCVINFO");
  if (setsockopt(fd, IPPROTO_SCTP, SCTP_NODELAY, &on, sizeof on) < 0) die("SCTP_NODELAY");
  int size = 1024 * 1024; /* as the TypeScript backend */
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  return fd;
}

static struct sockaddr_in address_of(const char *text, int port) {
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, text, &sin.sin_addr) != 1) {
    fprintf(stderr, "bad address %s\n", text);
    exit(1);
  }
  return sin;
}

/* Receives one data message (notifications are skipped); returns its length. */
static ssize_t receive(int fd, char *buf, size_t len, struct sctp_rcvinfo *info) {
  for (;;) {
    struct iovec iov = {buf, len};
    char control[CMSG_SPACE(sizeof(struct sctp_rcvinfo))];
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recvmsg");
    }
    if (msg.msg_flags & MSG_NOTIFICATION) continue;
    memset(info, 0, sizeof *info);
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == IPPROTO_SCTP && c->cmsg_type == SCTP_RCVINFO) {
        memcpy(info, CMSG_DATA(c), sizeof *info);
      }
    }
    return n;
  }
}

static void transmit(int fd, const void *data, size_t len, sctp_assoc_t assoc, uint16_t sid,
                     uint32_t ppid) {
  struct iovec iov = {(void *)data, len};
  char control[CMSG_SPACE(sizeof(struct sctp_sndinfo))];
  memset(control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = IPPROTO_SCTP;
  c->cmsg_type = SCTP_SNDINFO;
  c->cmsg_len = CMSG_LEN(sizeof(struct sctp_sndinfo));
  struct sctp_sndinfo *info = (struct sctp_sndinfo *)CMSG_DATA(c);
  info->snd_sid = sid;
  info->snd_ppid = htonl(ppid);
  info->snd_assoc_id = assoc;
  while (sendmsg(fd, &msg, 0) < 0) {
    if (errno != EINTR) die("sendmsg");
  }
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int server(const char *addr, int port) {
  int fd = open_socket();
  struct sockaddr_in sin = address_of(addr, port);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0) die("bind");
  if (listen(fd, 128) < 0) die("listen");
  printf("listening %s:%d\n", addr, port);
  fflush(stdout);
  static char buf[65536];
  uint32_t count = 0;
  for (;;) {
    struct sctp_rcvinfo info;
    ssize_t n = receive(fd, buf, sizeof buf, &info);
    uint32_t ppid = ntohl(info.rcv_ppid);
    if (ppid == 1) {
      transmit(fd, buf, (size_t)n, info.rcv_assoc_id, info.rcv_sid, 1);
    } else if (ppid == 3) {
      count++;
    } else if (ppid == 2) {
      uint32_t reply = htonl(count);
      count = 0;
      transmit(fd, &reply, sizeof reply, info.rcv_assoc_id, 0, 2);
    }
  }
}

static int client(const char *addr, int port, int rtt_count, int bulk_count, int size) {
  int fd = open_socket();
  struct sockaddr_in sin = address_of(addr, port);
  sctp_assoc_t assoc = 0;
  double t0 = now_us();
  if (sctp_connectx(fd, (struct sockaddr *)&sin, 1, &assoc) < 0) die("sctp_connectx");
  char *buf = calloc(1, 65536);
  char *payload = calloc(1, (size_t)size);
  struct sctp_rcvinfo info;
  /* The first round trip waits for the association to come up. */
  transmit(fd, payload, (size_t)size, assoc, 0, 1);
  receive(fd, buf, 65536, &info);
  double setup = now_us() - t0;
  double *rtt = calloc((size_t)rtt_count, sizeof(double));
  double sum = 0;
  for (int i = 0; i < rtt_count; i++) {
    double start = now_us();
    transmit(fd, payload, (size_t)size, assoc, (uint16_t)(i % 3), 1);
    receive(fd, buf, 65536, &info);
    rtt[i] = now_us() - start;
    sum += rtt[i];
  }
  qsort(rtt, (size_t)rtt_count, sizeof(double), compare);
  double start = now_us();
  for (int i = 0; i < bulk_count; i++) transmit(fd, payload, (size_t)size, assoc, 0, 3);
  uint32_t ask = 0;
  transmit(fd, &ask, sizeof ask, assoc, 0, 2);
  receive(fd, buf, 65536, &info);
  double elapsed = now_us() - start;
  uint32_t counted;
  memcpy(&counted, buf, sizeof counted);
  counted = ntohl(counted);
  printf("{\"impl\":\"c\",\"setupMs\":%.1f,\"rttCount\":%d,\"rttAvgUs\":%.0f,\"rttP50Us\":%.0f,"
         "\"rttP99Us\":%.0f,\"bulkCount\":%d,\"bulkCounted\":%u,\"bulkMs\":%.1f,"
         "\"messagesPerSecond\":%.0f,\"size\":%d}\n",
         setup / 1000, rtt_count, sum / rtt_count, rtt[rtt_count / 2],
         rtt[(int)(rtt_count * 0.99)], bulk_count, counted, elapsed / 1000,
         bulk_count / (elapsed / 1e6), size);
  close(fd);
  return counted == (uint32_t)bulk_count ? 0 : 2;
}

int main(int argc, char **argv) {
  if (argc == 4 && strcmp(argv[1], "server") == 0) return server(argv[2], atoi(argv[3]));
  if (argc == 7 && strcmp(argv[1], "client") == 0) {
    return client(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
  }
  fprintf(stderr,
          "usage: %s server ADDRESS PORT | client ADDRESS PORT RTT_COUNT BULK_COUNT SIZE\n",
          argv[0]);
  return 1;
}
