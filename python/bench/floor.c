// The connect probe's floor (bin/bench-connect): one epoll thread that answers each register_request
// with a fixed register_reply and does nothing else. What the probe measures against it is the cost of
// the client side (1,000 Python threads on one GIL), not of any daemon.
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
int main(int argc, char** argv) {
  int l = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  struct sockaddr_un a = {0}; a.sun_family = AF_UNIX; strcpy(a.sun_path, argv[1]); unlink(argv[1]);
  bind(l, (void*)&a, sizeof a); listen(l, 4096);
  int ep = epoll_create1(0); struct epoll_event ev = {.events = EPOLLIN, .data.fd = l}; epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  const char* body = "{\"type\":\"register_reply\",\"ipc_socket\":\"x\",\"rpc_endpoint\":\"0.0.0.0:0\",\"instance_id\":0,\"version\":\"0.24.4\",\"store_match\":true}";
  char out[512]; uint64_t n = strlen(body); memcpy(out, &n, 8); memcpy(out + 8, body, n);
  struct epoll_event evs[256]; char buf[65536];
  for (;;) {
    int k = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < k; i++) {
      int fd = evs[i].data.fd;
      if (fd == l) { int c; while ((c = accept4(l, 0, 0, SOCK_NONBLOCK)) >= 0) { struct epoll_event e = {.events = EPOLLIN, .data.fd = c}; epoll_ctl(ep, EPOLL_CTL_ADD, c, &e); } continue; }
      ssize_t r = read(fd, buf, sizeof buf);
      if (r <= 0) { close(fd); continue; }
      if (r > 8 && memmem(buf, r, "register", 8)) write(fd, out, 8 + n); // exit_request: no reply
    }
  }
}
