// Calls the application's C callbacks inside try/catch, as libsrt does:
// a callback written in C++ may throw, and an exception must not unwind
// into Rust (which aborts the process on a foreign exception). Built by
// build.rs with the `cc` crate; the Rust side is src/api/sockets.rs.
#include <sys/socket.h>

extern "C" {

typedef int srt_capi_listen_fn(void* opaque, int ns, int hsversion,
                               const struct sockaddr* peer, const char* streamid);
typedef void srt_capi_connect_fn(void* opaque, int ns, int errorcode,
                                 const struct sockaddr* peer, int token);

// The listen callback's result; -1 with *threw set to 1 if it threw.
int srt_capi_call_listen_hook(srt_capi_listen_fn* hook, void* opaque, int ns, int hsversion,
                              const struct sockaddr* peer, const char* streamid, int* threw)
{
    *threw = 0;
    try {
        return hook(opaque, ns, hsversion, peer, streamid);
    } catch (...) {
        *threw = 1;
        return -1;
    }
}

// Calls the connect callback; 1 if it threw (the exception is dropped).
int srt_capi_call_connect_hook(srt_capi_connect_fn* hook, void* opaque, int ns, int errorcode,
                               const struct sockaddr* peer, int token)
{
    try {
        hook(opaque, ns, errorcode, peer, token);
        return 0;
    } catch (...) {
        return 1;
    }
}
}
