/* `cargo xtask bench memory`: memory of the C API, built once against
 * Debian's libsrt.a and once against ours (srt-capi's libsrt.a), both
 * statically, from this one source.
 *
 *   memory idle N       a listener accepts N idle connections from callers
 *                       in a child process (forked before srt_startup);
 *                       prints the listener's VmRSS once listening, after
 *                       the first accepted connection and after all N.
 *   memory cycle W M    W then M connect/accept/close cycles in one process
 *                       (caller and listener); prints what the M cycles
 *                       allocated (bytes and calls) and what is still held.
 *
 * Allocations are counted by defining malloc and its siblings here: the
 * executable's definitions interpose on libc's for every object in the
 * process (libsrt's C++ `new` inside libstdc++, Rust's global allocator,
 * libc itself), and forward to glibc's __libc_* entry points.
 * Output: `key value` lines that xtask parses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <srt/srt.h>

/* ---- counting allocator ------------------------------------------------ */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_ullong alloc_bytes; /* bytes asked for, cumulated */
static atomic_ullong alloc_calls; /* allocations (realloc counts as one) */
static atomic_llong held_bytes;   /* usable bytes held now */

static void *counted(void *p, size_t asked) {
    if (p) {
        atomic_fetch_add_explicit(&alloc_bytes, asked, memory_order_relaxed);
        atomic_fetch_add_explicit(&alloc_calls, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&held_bytes, (long long)malloc_usable_size(p),
                                  memory_order_relaxed);
    }
    return p;
}

static void released(void *p) {
    if (p)
        atomic_fetch_sub_explicit(&held_bytes, (long long)malloc_usable_size(p),
                                  memory_order_relaxed);
}

void *malloc(size_t n) { return counted(__libc_malloc(n), n); }

void *calloc(size_t n, size_t size) {
    return counted(__libc_calloc(n, size), n * size);
}

void *realloc(void *old, size_t n) {
    size_t was = old ? malloc_usable_size(old) : 0;
    void *p = __libc_realloc(old, n);
    if (p || n == 0) {
        atomic_fetch_sub_explicit(&held_bytes, (long long)was, memory_order_relaxed);
        if (!p)
            return p;
        return counted(p, n);
    }
    return p;
}

void free(void *p) {
    released(p);
    __libc_free(p);
}

void *memalign(size_t align, size_t n) { return counted(__libc_memalign(align, n), n); }

void *aligned_alloc(size_t align, size_t n) { return memalign(align, n); }

int posix_memalign(void **out, size_t align, size_t n) {
    void *p = memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t n) { return memalign((size_t)sysconf(_SC_PAGESIZE), n); }

/* ---- helpers ------------------------------------------------------------ */

static void die(const char *what) {
    fprintf(stderr, "%s: %s\n", what, srt_getlasterror_str());
    exit(1);
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM). */
static long status_kib(const char *field) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    size_t len = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, len) == 0 && line[len] == ':') {
            kib = atol(line + len + 1);
            break;
        }
    }
    fclose(f);
    return kib;
}

static SRTSOCKET listener(int *port) {
    struct sockaddr_in sa;
    int len = sizeof sa;
    SRTSOCKET s = srt_create_socket();
    if (s == SRT_INVALID_SOCK)
        die("srt_create_socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (srt_bind(s, (struct sockaddr *)&sa, sizeof sa) == SRT_ERROR)
        die("srt_bind");
    if (srt_listen(s, 128) == SRT_ERROR)
        die("srt_listen");
    if (srt_getsockname(s, (struct sockaddr *)&sa, &len) == SRT_ERROR)
        die("srt_getsockname");
    *port = ntohs(sa.sin_port);
    return s;
}

static SRTSOCKET caller(int port) {
    struct sockaddr_in sa;
    SRTSOCKET s = srt_create_socket();
    if (s == SRT_INVALID_SOCK)
        die("srt_create_socket");
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    if (srt_connect(s, (struct sockaddr *)&sa, sizeof sa) == SRT_ERROR)
        die("srt_connect");
    return s;
}

static SRTSOCKET accept_one(SRTSOCKET l) {
    struct sockaddr_storage peer;
    int len = sizeof peer;
    SRTSOCKET s = srt_accept(l, (struct sockaddr *)&peer, &len);
    if (s == SRT_INVALID_SOCK)
        die("srt_accept");
    return s;
}

static void put_int(int fd, int v) {
    if (write(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        perror("write");
        exit(1);
    }
}

static int get_int(int fd) {
    int v;
    if (read(fd, &v, sizeof v) != (ssize_t)sizeof v) {
        perror("read");
        exit(1);
    }
    return v;
}

/* ---- idle accepted connections ------------------------------------------ */

/* The child: connects 1 caller when told the port, N − 1 more when told
 * again, then holds them until told to go. */
static void idle_callers(int from_parent, int to_parent, int n) {
    SRTSOCKET *socks = calloc((size_t)n, sizeof *socks);
    int port = get_int(from_parent);
    srt_startup();
    socks[0] = caller(port);
    put_int(to_parent, 1);
    get_int(from_parent);
    for (int i = 1; i < n; i++)
        socks[i] = caller(port);
    put_int(to_parent, n);
    get_int(from_parent);
    for (int i = 0; i < n; i++)
        srt_close(socks[i]);
    srt_cleanup();
    _exit(0);
}

static int idle(int n) {
    int down[2], up[2];
    if (pipe(down) || pipe(up)) {
        perror("pipe");
        return 1;
    }
    pid_t child = fork();
    if (child < 0) {
        perror("fork");
        return 1;
    }
    if (child == 0) {
        close(down[1]);
        close(up[0]);
        idle_callers(down[0], up[1], n);
    }
    close(down[0]);
    close(up[1]);

    srt_startup();
    int port;
    SRTSOCKET l = listener(&port);
    sleep_ms(300);
    printf("rss_listening_kib %ld\n", status_kib("VmRSS"));

    SRTSOCKET *socks = calloc((size_t)n, sizeof *socks);
    put_int(down[1], port);
    get_int(up[0]);
    socks[0] = accept_one(l);
    sleep_ms(1000);
    printf("rss_first_kib %ld\n", status_kib("VmRSS"));

    put_int(down[1], 1);
    get_int(up[0]);
    for (int i = 1; i < n; i++)
        socks[i] = accept_one(l);
    sleep_ms(1000);
    printf("rss_all_kib %ld\n", status_kib("VmRSS"));
    printf("hwm_kib %ld\n", status_kib("VmHWM"));
    printf("connections %d\n", n);

    put_int(down[1], 2);
    int status = 0;
    waitpid(child, &status, 0);
    for (int i = 0; i < n; i++)
        srt_close(socks[i]);
    srt_close(l);
    srt_cleanup();
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "the callers' process failed (status %d)\n", status);
        return 1;
    }
    return 0;
}

/* ---- connect/close cycles ------------------------------------------------ */

static SRTSOCKET cycle_listener;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int closed_accepted;

/* Accepts and closes every connection, counting them. */
static void *acceptor(void *arg) {
    int total = *(int *)arg;
    for (int i = 0; i < total; i++) {
        SRTSOCKET s = accept_one(cycle_listener);
        srt_close(s);
        pthread_mutex_lock(&lock);
        closed_accepted++;
        pthread_cond_signal(&cond);
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

static void run_cycles(int port, int from, int count) {
    for (int i = from; i < from + count; i++) {
        SRTSOCKET s = caller(port);
        pthread_mutex_lock(&lock);
        while (closed_accepted <= i)
            pthread_cond_wait(&cond, &lock);
        pthread_mutex_unlock(&lock);
        srt_close(s);
    }
}

static int cycles(int warm, int measured) {
    int port, total = warm + measured;
    pthread_t t;
    srt_startup();
    cycle_listener = listener(&port);
    if (pthread_create(&t, NULL, acceptor, &total)) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
    }
    run_cycles(port, 0, warm);
    sleep_ms(1500);
    unsigned long long bytes0 = atomic_load(&alloc_bytes);
    unsigned long long calls0 = atomic_load(&alloc_calls);
    long long held0 = atomic_load(&held_bytes);
    run_cycles(port, warm, measured);
    unsigned long long bytes1 = atomic_load(&alloc_bytes);
    unsigned long long calls1 = atomic_load(&alloc_calls);
    sleep_ms(1500);
    long long held1 = atomic_load(&held_bytes);
    pthread_join(t, NULL);
    printf("cycles %d\n", measured);
    printf("alloc_bytes %llu\n", bytes1 - bytes0);
    printf("alloc_calls %llu\n", calls1 - calls0);
    printf("held_delta_bytes %lld\n", held1 - held0);
    srt_close(cycle_listener);
    srt_cleanup();
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "idle") == 0 && atoi(argv[2]) > 0)
        return idle(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "cycle") == 0 && atoi(argv[2]) >= 0 && atoi(argv[3]) > 0)
        return cycles(atoi(argv[2]), atoi(argv[3]));
    fprintf(stderr, "usage: %s idle N | cycle WARMUP MEASURED\n", argv[0]);
    return 2;
}
