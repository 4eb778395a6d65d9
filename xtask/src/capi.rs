//! `cargo xtask capi [--release] [--prefix DIR]`: builds srt-capi's
//! libsrt and lays it out as an installed libsrt is: `DIR/include/srt/*.h`,
//! `DIR/lib/libsrt.so.1.5` (+ `libsrt.so` link), `DIR/lib/libsrt.a` and
//! `DIR/lib/pkgconfig/srt.pc` (from `srt-capi/srt.pc.in`). The default
//! DIR is `target/capi`; then
//! `PKG_CONFIG_PATH=target/capi/lib/pkgconfig pkg-config --cflags --libs srt`
//! gives the flags to build a libsrt program against it.

use crate::util::{cargo, root, run, Failure};
use std::fs;
use std::path::{Path, PathBuf};

/// What the command line asks for.
struct Options {
    release: bool,
    prefix: PathBuf,
}

fn parse(args: &[String]) -> Result<Options, Failure> {
    let mut options = Options {
        release: false,
        prefix: root().join("target/capi"),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" => options.release = true,
            "--prefix" => {
                let dir = args
                    .next()
                    .ok_or_else(|| Failure::Usage("--prefix needs a directory".into()))?;
                options.prefix = std::path::absolute(dir)
                    .map_err(|e| Failure::Usage(format!("--prefix {dir}: {e}")))?;
            }
            other => return Err(Failure::Usage(format!("capi: unknown argument {other}"))),
        }
    }
    Ok(options)
}

/// Wraps an I/O error with the path it concerns.
fn io<T>(what: &Path, result: std::io::Result<T>) -> Result<T, Failure> {
    result.map_err(|e| Failure::Failed(format!("{}: {e}", what.display())))
}

pub(crate) fn main(args: &[String]) -> Result<(), Failure> {
    let options = parse(args)?;
    let mut build = cargo();
    build.args(["build", "-p", "srt-capi", "--lib"]);
    if options.release {
        build.arg("--release");
    }
    run(&mut build)?;

    let built = root()
        .join("target")
        .join(if options.release { "release" } else { "debug" });
    let prefix = &options.prefix;
    let (include, lib) = (prefix.join("include/srt"), prefix.join("lib"));
    let pkgconfig = lib.join("pkgconfig");
    for dir in [&include, &pkgconfig] {
        io(dir, fs::create_dir_all(dir))?;
    }

    let headers = root().join("srt-capi/include/srt");
    for entry in io(&headers, fs::read_dir(&headers))? {
        let path = io(&headers, entry)?.path();
        let to = include.join(path.file_name().unwrap_or_default());
        io(&to, fs::copy(&path, &to))?;
    }

    let soname = lib.join("libsrt.so.1.5");
    io(&soname, fs::copy(built.join("libsrt.so"), &soname))?;
    let link = lib.join("libsrt.so");
    if link.symlink_metadata().is_ok() {
        io(&link, fs::remove_file(&link))?;
    }
    io(&link, std::os::unix::fs::symlink("libsrt.so.1.5", &link))?;
    let archive = lib.join("libsrt.a");
    io(&archive, fs::copy(built.join("libsrt.a"), &archive))?;

    let template_path = root().join("srt-capi/srt.pc.in");
    let template = io(&template_path, fs::read_to_string(&template_path))?;
    let pc = template
        .replace("@PREFIX@", &prefix.to_string_lossy())
        .replace("@LIBDIR@", "${exec_prefix}/lib")
        .replace("@INCLUDEDIR@", "${prefix}/include");
    let pc_path = pkgconfig.join("srt.pc");
    io(&pc_path, fs::write(&pc_path, pc))?;

    println!("libsrt (srt-capi) laid out in {}", prefix.display());
    println!(
        "build against it with: PKG_CONFIG_PATH={} pkg-config --cflags --libs srt",
        pkgconfig.display()
    );
    Ok(())
}
