/* An LD_PRELOAD shim over fsync/fdatasync and writes to files, to see what shiplog does with
 * a disk it does not have. Never a way to run shiplog for real.
 *   SYNC_DELAY_MS=N     every sync takes N ms longer (network block storage); default 0
 *   SYNC_SKIP=1         syncs return at once without syncing (an upper bound for benchmarks)
 *   SYNC_FAIL_IF=PATH   fdatasync fails with EIO while the file PATH exists (a failing disk)
 *   WRITE_FULL_IF=PATH  writes to regular files fail with ENOSPC while PATH exists (a full disk)
 * cc -shared -fPIC -O2 -o /tmp/disk-shim.so scripts/disk-shim.c -ldl
 * SYNC_DELAY_MS=3 LD_PRELOAD=/tmp/disk-shim.so scripts/bench/http-ab.sh OLD NEW 3 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static long setting(const char *name, long otherwise) {
    const char *value = getenv(name);
    return value ? atol(value) : otherwise;
}

static int triggered(const char *variable) {
    const char *trigger = getenv(variable);
    return trigger && access(trigger, F_OK) == 0;
}

/* Returns 1 when the call should skip the real sync, -1 when it should fail. */
static int beforeSync(int mayFail) {
    if (mayFail && triggered("SYNC_FAIL_IF")) {
        errno = EIO;
        return -1;
    }
    if (setting("SYNC_SKIP", 0) == 1) return 1;
    long ms = setting("SYNC_DELAY_MS", 0);
    if (ms > 0) {
        struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
    }
    return 0;
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    int action = beforeSync(1);
    if (action != 0) return action < 0 ? -1 : 0;
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int action = beforeSync(0);
    if (action != 0) return action < 0 ? -1 : 0;
    return real(fd);
}

/* Whether a write to fd should fail as on a full disk (sockets and pipes never do). */
static int diskIsFull(int fd) {
    struct stat s;
    if (!triggered("WRITE_FULL_IF") || fstat(fd, &s) != 0 || !S_ISREG(s.st_mode)) return 0;
    errno = ENOSPC;
    return 1;
}

ssize_t write(int fd, const void *buffer, size_t count) {
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
    return diskIsFull(fd) ? -1 : real(fd, buffer, count);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
    return diskIsFull(fd) ? -1 : real(fd, buffer, count, offset);
}

ssize_t pwrite64(int fd, const void *buffer, size_t count, off64_t offset) {
    static ssize_t (*real)(int, const void *, size_t, off64_t);
    if (!real) real = (ssize_t (*)(int, const void *, size_t, off64_t))dlsym(RTLD_NEXT, "pwrite64");
    return diskIsFull(fd) ? -1 : real(fd, buffer, count, offset);
}
