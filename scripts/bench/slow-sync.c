/* Makes every fsync/fdatasync take SYNC_DELAY_MS longer (default 3), to see how a build
 * behaves on a disk with slow syncs (network block storage) without owning one.
 * SYNC_SKIP=1 makes them return at once without syncing: an upper bound for experiments,
 * never a way to run shiplog (acknowledged events would not be durable).
 * gcc -shared -fPIC -O2 -o /tmp/slow-sync.so scripts/bench/slow-sync.c -ldl
 * SYNC_DELAY_MS=3 LD_PRELOAD=/tmp/slow-sync.so scripts/bench/http-ab.sh OLD NEW 3 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void delay(void) {
    const char *ms = getenv("SYNC_DELAY_MS");
    long n = ms ? atol(ms) : 3;
    struct timespec t = {n / 1000, (n % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static int skip(void) {
    const char *s = getenv("SYNC_SKIP");
    return s && s[0] == '1';
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    if (skip()) return 0;
    delay();
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    if (skip()) return 0;
    delay();
    return real(fd);
}
