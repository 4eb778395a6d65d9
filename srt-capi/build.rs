//! Gives libsrt.so the SONAME of libsrt 1.5 (`libsrt.so.1.5`), so programs
//! linked against it load Debian's libsrt or ours alike.

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsrt.so.1.5");
    println!("cargo:rerun-if-changed=build.rs");
}
