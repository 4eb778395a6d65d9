//! The C API of libsrt 1.5 (not yet implemented; see the issue tracker).
