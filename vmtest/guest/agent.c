// khospec-agent: the guest side of `khospec vmtest`. Drives LUO through
// /dev/liveupdate the way a Live Update user does, and checks what came back.
//
//   khospec-agent luo-prep SESSION TOKEN   memfd of 5 pages (page 3 a hole),
//                                          f_pos 1234, preserved in SESSION;
//                                          a child keeps the fds open for kexec
//   khospec-agent luo-get SESSION TOKEN    retrieve, verify, finish
//
// Built static against the test kernel's <linux/liveupdate.h>.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/liveupdate.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

enum { kPages = 5, kHole = 3, kPos = 1234 };

static long page_size(void) { return sysconf(_SC_PAGESIZE); }

// The byte at offset `i` of page `p`: distinct per page, so a swapped folio shows.
static unsigned char pattern(int p, long i) { return (unsigned char)(0x40 + p * 7 + (i % 251)); }

static int fail(const char* what) {
  printf("khospec-agent: FAILED: %s: %s\n", what, strerror(errno));
  return 1;
}

static int open_session(const char* name, unsigned long cmd, int* session) {
  int lu = open("/dev/liveupdate", O_RDWR);
  if (lu < 0) return fail("open /dev/liveupdate");
  struct liveupdate_ioctl_create_session s;  // same layout as retrieve_session
  memset(&s, 0, sizeof s);
  s.size = sizeof s;
  strncpy((char*)s.name, name, sizeof s.name - 1);
  if (ioctl(lu, cmd, &s) < 0) return fail(cmd == LIVEUPDATE_IOCTL_CREATE_SESSION ? "CREATE_SESSION" : "RETRIEVE_SESSION");
  *session = s.fd;
  return 0;
}

static int prep(const char* name, uint64_t token) {
  const long ps = page_size();
  int fd = memfd_create("khospec-vmtest", 0);
  if (fd < 0) return fail("memfd_create");
  unsigned char* buf = malloc(ps);
  for (int p = 0; p < kPages; ++p) {
    if (p == kHole) continue;
    for (long i = 0; i < ps; ++i) buf[i] = pattern(p, i);
    if (pwrite(fd, buf, ps, p * ps) != ps) return fail("pwrite");
  }
  if (ftruncate(fd, kPages * ps) < 0) return fail("ftruncate");
  if (lseek(fd, kPos, SEEK_SET) != kPos) return fail("lseek");
  int session = -1;
  if (open_session(name, LIVEUPDATE_IOCTL_CREATE_SESSION, &session)) return 1;
  struct liveupdate_session_preserve_fd pf = {.size = sizeof pf, .fd = fd, .token = token};
  if (ioctl(session, LIVEUPDATE_SESSION_PRESERVE_FD, &pf) < 0) return fail("SESSION_PRESERVE_FD");
  printf("khospec-agent: luo-prep ok session=%s token=0x%llx size=0x%lx pos=%d\n", name, (unsigned long long)token,
         kPages * ps, kPos);
  fflush(stdout);
  // LUO serializes at reboot what is still open: a child holds the fds until kexec.
  pid_t pid = fork();
  if (pid < 0) return fail("fork");
  if (pid == 0) {
    for (;;) pause();
  }
  return 0;
}

static int get(const char* name, uint64_t token) {
  const long ps = page_size();
  int session = -1;
  if (open_session(name, LIVEUPDATE_IOCTL_RETRIEVE_SESSION, &session)) return 1;
  struct liveupdate_session_retrieve_fd rf = {.size = sizeof rf, .token = token};
  if (ioctl(session, LIVEUPDATE_SESSION_RETRIEVE_FD, &rf) < 0) return fail("SESSION_RETRIEVE_FD");
  const off_t size = lseek(rf.fd, 0, SEEK_END);
  int bad = 0;
  if (size != kPages * ps) {
    printf("khospec-agent: size 0x%llx, expected 0x%lx\n", (long long)size, kPages * ps);
    bad = 1;
  }
  unsigned char* buf = malloc(ps);
  for (int p = 0; p < kPages && !bad; ++p) {
    if (pread(rf.fd, buf, ps, p * ps) != ps) return fail("pread");
    for (long i = 0; i < ps; ++i) {
      const unsigned char want = p == kHole ? 0 : pattern(p, i);
      if (buf[i] != want) {
        printf("khospec-agent: page %d byte %ld is 0x%02x, expected 0x%02x\n", p, i, buf[i], want);
        bad = 1;
        break;
      }
    }
  }
  struct liveupdate_session_finish fin = {.size = sizeof fin};
  if (ioctl(session, LIVEUPDATE_SESSION_FINISH, &fin) < 0) return fail("SESSION_FINISH");
  printf("khospec-agent: luo-get %s session=%s token=0x%llx\n", bad ? "FAILED" : "VERIFIED", name,
         (unsigned long long)token);
  return bad;
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: khospec-agent luo-prep|luo-get SESSION TOKEN\n");
    return 2;
  }
  const uint64_t token = strtoull(argv[3], NULL, 0);
  if (!strcmp(argv[1], "luo-prep")) return prep(argv[2], token);
  if (!strcmp(argv[1], "luo-get")) return get(argv[2], token);
  fprintf(stderr, "khospec-agent: unknown command '%s'\n", argv[1]);
  return 2;
}
