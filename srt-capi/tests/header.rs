//! Acceptance check of `include/srt/*.h`: `tests/c/header_check.c`, which
//! prints every constant and every struct layout, gives the same output
//! compiled (as C and as C++) against Debian's libsrt 1.5.1 headers and
//! against ours. Also checks that header_check.c leaves out nothing that
//! Debian's headers declare, so the comparison covers them completely.

mod common;

use common::{
    assert_same_output, c_source, compile, debian_include, our_include, run, scratch, Lang,
};
use std::collections::BTreeSet;

/// Headers whose constants must all be printed.
const CONSTANT_HEADERS: &[&str] = &["version.h", "logging_api.h", "access_control.h", "srt.h"];
/// Headers whose struct fields must all be printed.
const STRUCT_HEADERS: &[&str] = &["srt.h", "udt.h"];

/// Object-like macros in those headers that are not values: attributes,
/// and an alias of a function-like macro (which header_check.c calls).
const NOT_VALUES: &[&str] = &[
    "SRT_API",
    "SRT_ATR_UNUSED",
    "SRT_ATR_NODISCARD",
    "SRT_ATR_DEPRECATED",
    "SRT_ATR_DEPRECATED_PX",
    "SRT_MAKE_VERSION_VALUE",
];

#[test]
fn constants_and_layouts_match_debian() {
    let debian = debian_include();
    let source = c_source("header_check.c");
    for (lang, tag) in [(Lang::C, "c"), (Lang::CXX, "cxx")] {
        let outputs: Vec<String> = [(&debian, "debian"), (&our_include(), "ours")]
            .into_iter()
            .map(|(include, who)| {
                let exe = scratch(&format!("header_check_{tag}_{who}"));
                compile(lang, &source, include, &[], &exe);
                run(&exe)
            })
            .collect();
        assert!(outputs[0].lines().count() > 400, "{}", outputs[0]);
        assert_same_output(&format!("header_check_{tag}"), &outputs[0], &outputs[1]);
    }
}

/// Our headers compile without a warning as C99, C11, C++98, C++11 and
/// C++17 (as Debian's do).
#[test]
fn headers_compile_in_every_standard() {
    let source = scratch("all_headers.c");
    std::fs::write(
        &source,
        "#include <srt/srt.h>\n#include <srt/udt.h>\n#include <srt/access_control.h>\n\
         #include <srt/logging_api.h>\n#include <srt/version.h>\n#include <srt/platform_sys.h>\n\
         int main(void) { return srt_getversion() == 0; }\n",
    )
    .unwrap();
    for (std, cxx) in [
        ("c99", false),
        ("gnu11", false),
        ("c++98", true),
        ("c++11", true),
        ("c++17", true),
    ] {
        let exe = scratch(&format!("all_headers_{std}"));
        // Linked with nothing: the program is only compiled to an object.
        let obj = ["-c".to_string()];
        compile(Lang { std, cxx }, &source, &our_include(), &obj, &exe);
    }
}

#[test]
fn header_check_covers_every_debian_name() {
    let debian = debian_include().join("srt");
    let program = std::fs::read_to_string(c_source("header_check.c")).unwrap();
    let mut missing = BTreeSet::new();
    for header in CONSTANT_HEADERS {
        let text = strip_comments(&std::fs::read_to_string(debian.join(header)).unwrap());
        for name in constants(&text) {
            // P(NAME), PS(NAME) for strings, P(ns::NAME) for C++ names.
            let printed = program.contains(&format!("P({name})"))
                || program.contains(&format!("PS({name})"))
                || program.contains(&format!("::{name})"));
            if !printed && !NOT_VALUES.contains(&name.as_str()) {
                missing.insert(format!("{header}: {name}"));
            }
        }
    }
    for header in STRUCT_HEADERS {
        let text = strip_comments(&std::fs::read_to_string(debian.join(header)).unwrap());
        for (tag, fields) in structs(&text) {
            if !program.contains(&format!("S({tag})")) {
                missing.insert(format!("{header}: struct {tag}"));
            }
            for field in fields {
                if !program.contains(&format!("F({tag}, {field})")) {
                    missing.insert(format!("{header}: {tag}.{field}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "tests/c/header_check.c does not print these names of Debian's headers:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// Our headers define no constant that Debian's do not (a name of our
/// own would compile with us and fail with libsrt), except the ones that
/// libsrt ≥ 1.5.2 declares under `#ifdef ENABLE_AEAD_API_PREVIEW`
/// (`SRTO_CRYPTOMODE` and the like, compared with libsrt 1.5.5 by
/// `tests/c/cryptomode.c`).
#[test]
fn no_constants_of_our_own() {
    let mut extra = Vec::new();
    for header in CONSTANT_HEADERS {
        let read = |dir: std::path::PathBuf| {
            constants(&without_aead_preview(&strip_comments(
                &std::fs::read_to_string(dir.join("srt").join(header)).unwrap(),
            )))
        };
        let debian = read(debian_include());
        extra.extend(
            read(our_include())
                .into_iter()
                .filter(|name| !debian.contains(name))
                .map(|name| format!("{header}: {name}")),
        );
    }
    assert!(extra.is_empty(), "not in Debian's headers: {extra:?}");
}

/// Every function and data object Debian's srt.h declares is declared by
/// ours with the same type: Debian's declarations, repeated after our
/// header in one translation unit, must compile without a conflict
/// (as C and as C++). Ours declare nothing more.
#[test]
fn function_declarations_match_debian() {
    let debian =
        strip_comments(&std::fs::read_to_string(debian_include().join("srt/srt.h")).unwrap());
    let ours = strip_comments(&std::fs::read_to_string(our_include().join("srt/srt.h")).unwrap());
    let debian_decls = api_declarations(&debian);
    assert!(debian_decls.len() > 70, "{debian_decls:?}");
    let names = |decls: &[String]| -> BTreeSet<String> {
        decls.iter().map(|d| declared_name(d).to_string()).collect()
    };
    let (debian_names, our_names) = (names(&debian_decls), names(&api_declarations(&ours)));
    assert_eq!(
        debian_names
            .symmetric_difference(&our_names)
            .collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "declared by only one of Debian's srt.h and ours"
    );
    let mut program = String::from("#include <srt/srt.h>\n/* Debian's declarations: */\n");
    for decl in &debian_decls {
        program.push_str(decl);
        program.push_str(";\n");
    }
    program.push_str("int main(void) { return 0; }\n");
    let source = scratch("debian_declarations.c");
    std::fs::write(&source, program).unwrap();
    for (lang, tag) in [(Lang::C, "c"), (Lang::CXX, "cxx")] {
        let obj = ["-c".to_string()];
        compile(
            lang,
            &source,
            &our_include(),
            &obj,
            &scratch(&format!("decls_{tag}.o")),
        );
    }
}

/// The `SRT_API` declarations of a header, without `SRT_API` and the
/// deprecation attributes, one string each.
fn api_declarations(text: &str) -> Vec<String> {
    text.match_indices("SRT_API ")
        .filter(|(start, _)| !text[..*start].ends_with("define "))
        .map(|(start, _)| {
            let decl = &text[start..];
            let decl = &decl[..decl.find(';').unwrap_or(decl.len())];
            decl.split_whitespace()
                .filter(|w| {
                    !matches!(
                        *w,
                        "SRT_API" | "SRT_ATR_DEPRECATED" | "SRT_ATR_DEPRECATED_PX"
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// The name a declaration declares: the identifier before its first `(`
/// (a function) or before `[`/end (data).
fn declared_name(decl: &str) -> &str {
    let head = &decl[..decl.find(['(', '[']).unwrap_or(decl.len())];
    head.split(|c| !is_ident(c))
        .rfind(|w| !w.is_empty())
        .unwrap_or("")
}

/// The scanner finds what it must (so an empty scan cannot pass).
#[test]
fn scanner_finds_known_names() {
    let srt_h =
        strip_comments(&std::fs::read_to_string(debian_include().join("srt/srt.h")).unwrap());
    let names = constants(&srt_h);
    for known in [
        "SRTO_RETRANSMITALGO",
        "SRT_EPEERERR",
        "SRT_LOGFA_EPOLL_API",
        "SRT_ERROR",
    ] {
        assert!(names.contains(&known.to_string()), "{known} not found");
    }
    assert!(
        !names.contains(&"TIMEOUT".to_string()),
        "macro arguments taken as names"
    );
    let structs = structs(&srt_h);
    let stats = structs
        .iter()
        .find(|(tag, _)| tag == "CBytePerfMon")
        .unwrap();
    assert_eq!(stats.1.len(), 82);
    let event = structs
        .iter()
        .find(|(tag, _)| tag == "SRT_EPOLL_EVENT_STR")
        .unwrap();
    assert_eq!(event.1, ["fd", "events"]);
}

/// `text` without `/* */` and `//` comments.
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |end| &after[end + 2..]);
            out.push(' ');
        } else if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |end| &after[end..]);
        } else {
            let c = rest.chars().next().unwrap();
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

/// Whether `c` may be part of a C identifier.
fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The leading identifier of `s` (after blanks), if any.
fn leading_ident(s: &str) -> Option<&str> {
    let s = s.trim_start();
    let end = s.find(|c| !is_ident(c)).unwrap_or(s.len());
    (end > 0 && !s.starts_with(|c: char| c.is_ascii_digit())).then(|| &s[..end])
}

/// Names with a value: object-like `#define`s with a body, enumerators,
/// and `static const` variables, in order of appearance, without repeats.
fn constants(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |name: &str| {
        if !names.iter().any(|n| n == name) {
            names.push(name.to_string());
        }
    };
    let joined = text.replace("\\\n", " ");
    for line in joined.lines() {
        let Some(rest) = line.trim_start().strip_prefix('#') else {
            continue;
        };
        let Some(rest) = rest.trim_start().strip_prefix("define") else {
            continue;
        };
        let Some(name) = leading_ident(rest) else {
            continue;
        };
        let body = &rest.trim_start()[name.len()..];
        // Function-like macros have `(` right after the name.
        if !body.starts_with('(') && !body.trim().is_empty() {
            add(name);
        }
    }
    for (start, _) in text.match_indices("enum") {
        let before_ok = text[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !is_ident(c));
        let after = &text[start + 4..];
        if !before_ok || after.starts_with(is_ident) {
            continue;
        }
        // `enum [attributes] [Name] {`: only identifiers before the brace.
        let Some(open) = after.find(|c: char| !(is_ident(c) || c.is_whitespace())) else {
            continue;
        };
        if !after[open..].starts_with('{') {
            continue;
        }
        let body = &after[open + 1..];
        let body = &body[..body.find('}').unwrap_or(body.len())];
        for item in split_top_level(body, ',') {
            if let Some(name) = leading_ident(item) {
                add(name);
            }
        }
    }
    for (start, _) in text.match_indices("static const ") {
        let decl = &text[start..];
        let decl = &decl[..decl.find(['=', ';']).unwrap_or(decl.len())];
        if let Some(name) = decl.split(|c| !is_ident(c)).rfind(|w| !w.is_empty()) {
            add(name);
        }
    }
    names
}

/// `text` without what `#ifdef ENABLE_AEAD_API_PREVIEW` keeps (its
/// `#else` part stays); such blocks do not nest.
fn without_aead_preview(text: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        let directive = line.trim_start().strip_prefix('#').map(str::trim_start);
        match directive {
            Some(d) if d.starts_with("ifdef") && d.contains("ENABLE_AEAD_API_PREVIEW") => {
                skipping = true;
                continue;
            }
            Some(d) if skipping && d.starts_with("else") => {
                skipping = false;
                continue;
            }
            Some(d) if skipping && d.starts_with("endif") => {
                skipping = false;
                continue;
            }
            _ => {}
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// `text` split at `sep` outside parentheses.
fn split_top_level(text: &str, sep: char) -> Vec<&str> {
    let (mut parts, mut depth, mut from) = (Vec::new(), 0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == sep && depth == 0 => {
                parts.push(&text[from..i]);
                from = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[from..]);
    parts
}

/// Each `struct Tag { .. }` definition: its tag and data member names
/// (constructors and preprocessor lines left out).
fn structs(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices("struct ") {
        if text[..start].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let after = &text[start + 7..];
        let Some(tag) = leading_ident(after) else {
            continue;
        };
        let rest = after.trim_start()[tag.len()..].trim_start();
        let Some(body) = rest.strip_prefix('{') else {
            continue;
        };
        // The body up to the matching brace, nested braces removed.
        let (mut depth, mut flat) = (1, String::new());
        for c in body.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ if depth == 1 => flat.push(c),
                _ => {}
            }
            if depth == 0 {
                break;
            }
        }
        let flat: String = flat
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let fields = flat
            .split(';')
            .filter(|decl| !decl.contains('(') && !decl.trim().is_empty())
            .filter_map(|decl| decl.split(|c| !is_ident(c)).rfind(|w| !w.is_empty()))
            .map(str::to_string)
            .collect();
        found.push((tag.to_string(), fields));
    }
    found
}
