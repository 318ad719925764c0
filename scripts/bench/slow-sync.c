/* Makes every fsync/fdatasync take SYNC_DELAY_MS longer (default 3), to see how a build
 * behaves on a disk with slow syncs (network block storage) without owning one.
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

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    delay();
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    delay();
    return real(fd);
}
