/*
 * failmalloc.c - an LD_PRELOAD shim for the integration tests that makes
 * memory allocation fail at random, to prove that running out of memory
 * never changes what shardwire sends (test_alloc_failure.sh).
 *
 * malloc, calloc, realloc, strdup and strndup return NULL (errno ENOMEM)
 * with a probability of SW_FAIL_MALLOC_PERMILLE / 1000, from
 * SW_FAIL_MALLOC_AFTER_MS milliseconds after the process started (so it
 * can read its configuration and start listening first) and for
 * SW_FAIL_MALLOC_FOR_MS milliseconds (default: to the end).
 * SW_FAIL_MALLOC_SEED varies the sequence.
 *
 * SW_FAIL_MALLOC_SPARE names shared objects (comma-separated parts of
 * their paths, say "libpg_query") whose allocations never fail: a failure
 * whose call stack passes through one of them is let through, to keep a
 * library that does not survive its own failures out of a test of its
 * caller.  With SW_FAIL_MALLOC_TRACE=1 every failure writes its backtrace
 * to stderr, to find the code that mishandled it.  At exit the shim writes
 * one line to stderr: "failmalloc: F of N allocations failed (S spared)".
 *
 * The real allocator is the next one in the lookup order (glibc's, or the
 * sanitizer runtime's in a sanitizer build, which then needs
 * ASAN_OPTIONS=verify_asan_link_order=0).  While dlsym looks it up, a small
 * static arena serves the allocations dlsym itself makes; free ignores
 * those.
 */
#include <dlfcn.h>
#include <link.h>
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

static int permille;
static int64_t start_after_ns = INT64_MAX; /* no failures before the constructor ran */
static int64_t stop_at_ns = INT64_MAX;
static uint64_t seed = 0x9e3779b97f4a7c15ull;
static uint64_t n_calls, n_failed, n_spared;
static int trace;

/* Address ranges of the spared objects' loaded segments. */
static struct {
    uintptr_t lo, hi;
} spared[32];
static int n_ranges;

/* ---- bootstrap arena (only while dlsym runs) ---------------------------- */

static _Alignas(16) unsigned char arena[16384];
static size_t arena_used;
static int resolving;

static int in_arena(const void *p)
{
    return (const unsigned char *)p >= arena && (const unsigned char *)p < arena + sizeof arena;
}

static void *arena_alloc(size_t n)
{
    size_t need = ((n + 15) & ~(size_t)15) + 16;
    if (arena_used + need > sizeof arena)
        return NULL;
    unsigned char *p = arena + arena_used;
    arena_used += need;
    memcpy(p, &n, sizeof n); /* the size, for realloc */
    return p + 16;
}

static void resolve(void)
{
    if (real_malloc || resolving)
        return;
    resolving = 1;
    real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
    real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
    real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
    real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
    resolving = 0;
}

/* ---- the decision ------------------------------------------------------ */

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int should_fail(void)
{
    if (permille <= 0)
        return 0;
    __atomic_fetch_add(&n_calls, 1, __ATOMIC_RELAXED);
    int64_t t = now_ns();
    if (t < start_after_ns || t >= stop_at_ns)
        return 0;
    /* splitmix64 over a shared counter: thread-safe, reproducible per seed */
    uint64_t z = __atomic_add_fetch(&seed, 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    if ((int)(z % 1000) >= permille)
        return 0;
    if (n_ranges) {
        void *frames[48];
        int n = backtrace(frames, 48);
        for (int i = 0; i < n; i++)
            for (int r = 0; r < n_ranges; r++)
                if ((uintptr_t)frames[i] >= spared[r].lo && (uintptr_t)frames[i] < spared[r].hi) {
                    __atomic_fetch_add(&n_spared, 1, __ATOMIC_RELAXED);
                    return 0;
                }
    }
    uint64_t k = __atomic_add_fetch(&n_failed, 1, __ATOMIC_RELAXED);
    if (trace) {
        /* backtrace_symbols_fd does not allocate; backtrace was warmed up */
        void *frames[24];
        char head[64];
        int n = snprintf(head, sizeof head, "failmalloc: failure %llu at\n", (unsigned long long)k);
        ssize_t w = write(STDERR_FILENO, head, (size_t)n);
        (void)w;
        backtrace_symbols_fd(frames, backtrace(frames, 24), STDERR_FILENO);
    }
    return 1;
}

static int find_spared(struct dl_phdr_info *info, size_t size, void *data)
{
    const char *names = data;
    (void)size;
    if (!info->dlpi_name || !info->dlpi_name[0])
        return 0;
    for (const char *n = names; *n;) {
        size_t len = strcspn(n, ",");
        char part[128];
        if (len > 0 && len < sizeof part) {
            memcpy(part, n, len);
            part[len] = '\0';
            if (strstr(info->dlpi_name, part)) {
                for (int i = 0; i < info->dlpi_phnum && n_ranges < 32; i++) {
                    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
                    if (ph->p_type != PT_LOAD)
                        continue;
                    spared[n_ranges].lo = info->dlpi_addr + ph->p_vaddr;
                    spared[n_ranges].hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
                    n_ranges++;
                }
                break;
            }
        }
        n += len;
        if (*n == ',')
            n++;
    }
    return 0;
}

__attribute__((constructor)) static void failmalloc_init(void)
{
    const char *p = getenv("SW_FAIL_MALLOC_PERMILLE");
    const char *a = getenv("SW_FAIL_MALLOC_AFTER_MS");
    const char *s = getenv("SW_FAIL_MALLOC_SEED");
    if (s)
        seed ^= strtoull(s, NULL, 10) * 0x2545f4914f6cdd1dull;
    const char *f = getenv("SW_FAIL_MALLOC_FOR_MS");
    const char *sp = getenv("SW_FAIL_MALLOC_SPARE");
    int64_t start = now_ns() + (a ? strtoll(a, NULL, 10) : 0) * 1000000;
    if (f && *f)
        stop_at_ns = start + strtoll(f, NULL, 10) * 1000000;
    if (sp && *sp) {
        void *frames[4];
        backtrace(frames, 4); /* loads libgcc now, not inside a failure */
        dl_iterate_phdr(find_spared, (void *)sp);
    }
    start_after_ns = start;
    permille = p ? atoi(p) : 0;
    const char *t = getenv("SW_FAIL_MALLOC_TRACE");
    if (t && *t == '1') {
        void *frames[4];
        backtrace(frames, 4); /* loads libgcc now, not inside a failure */
        trace = 1;
    }
}

__attribute__((destructor)) static void failmalloc_report(void)
{
    char line[128];
    int n = snprintf(line, sizeof line, "failmalloc: %llu of %llu allocations failed (%llu spared)\n",
                     (unsigned long long)__atomic_load_n(&n_failed, __ATOMIC_RELAXED),
                     (unsigned long long)__atomic_load_n(&n_calls, __ATOMIC_RELAXED),
                     (unsigned long long)__atomic_load_n(&n_spared, __ATOMIC_RELAXED));
    if (n > 0 && permille > 0) {
        ssize_t w = write(STDERR_FILENO, line, (size_t)n);
        (void)w;
    }
}

/* ---- the interposed functions ---------------------------------------- */

void *malloc(size_t n)
{
    if (!real_malloc) {
        resolve();
        if (!real_malloc)
            return arena_alloc(n);
    }
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    if (!real_calloc) {
        resolve();
        if (!real_calloc) {
            if (size && n > SIZE_MAX / size)
                return NULL;
            void *p = arena_alloc(n * size);
            if (p)
                memset(p, 0, n * size);
            return p;
        }
    }
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real_calloc(n, size);
}

void *realloc(void *old, size_t n)
{
    if (old && in_arena(old)) {
        size_t had;
        memcpy(&had, (unsigned char *)old - 16, sizeof had);
        void *p = malloc(n);
        if (p)
            memcpy(p, old, had < n ? had : n);
        return p;
    }
    if (!real_realloc) {
        resolve();
        if (!real_realloc)
            return arena_alloc(n);
    }
    if (should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    return real_realloc(old, n);
}

void free(void *p)
{
    if (!p || in_arena(p))
        return;
    if (!real_free)
        resolve();
    real_free(p);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

char *strndup(const char *s, size_t max)
{
    size_t n = strnlen(s, max);
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}
