//! Shared pieces of the fuzz targets: a counting allocator (the memory
//! bound), a two-endpoint harness in virtual time (the work bound), and
//! structure-aware hostile packets built with srt-proto's encoders.

pub mod alloc;
pub mod harness;
pub mod hostile;
