//! Gives libsrt.so the SONAME of libsrt 1.5 (`libsrt.so.1.5`), so programs
//! linked against it load Debian's libsrt or ours alike; compiles the C++
//! trampoline that calls the application's callbacks inside try/catch
//! (src/trampoline.cpp; it links libstdc++, which `libsrt.a` users add:
//! srt.pc's Libs.private has `-lstdc++`).

fn main() {
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsrt.so.1.5");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/trampoline.cpp");
    cc::Build::new()
        .cpp(true)
        .file("src/trampoline.cpp")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("srt_capi_trampoline");
}
