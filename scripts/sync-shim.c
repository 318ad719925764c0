/* An LD_PRELOAD shim over fsync/fdatasync, to see what shiplog does with a disk it does not
 * have. Never a way to run shiplog for real.
 *   SYNC_DELAY_MS=N     every sync takes N ms longer (network block storage); default 0
 *   SYNC_SKIP=1         syncs return at once without syncing (an upper bound for benchmarks)
 *   SYNC_FAIL_IF=PATH   fdatasync fails with EIO while the file PATH exists (the fault test)
 * cc -shared -fPIC -O2 -o /tmp/sync-shim.so scripts/sync-shim.c -ldl
 * SYNC_DELAY_MS=3 LD_PRELOAD=/tmp/sync-shim.so scripts/bench/http-ab.sh OLD NEW 3 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long setting(const char *name, long otherwise) {
    const char *value = getenv(name);
    return value ? atol(value) : otherwise;
}

/* Returns 1 when the call should skip the real sync, -1 when it should fail. */
static int before(int mayFail) {
    const char *trigger = getenv("SYNC_FAIL_IF");
    if (mayFail && trigger && access(trigger, F_OK) == 0) {
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
    int action = before(1);
    if (action != 0) return action < 0 ? -1 : 0;
    return real(fd);
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    int action = before(0);
    if (action != 0) return action < 0 ? -1 : 0;
    return real(fd);
}
