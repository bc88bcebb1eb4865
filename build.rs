//! Indexes the jq-defined standard library for `--jq` (src/jq.rs): the definitions of
//! jaq-core, jaq-std and jaq-json (from their `defs()`) and ours (src/jq_builtins.jq),
//! each printed back as jq text on its own, in order, into `$OUT_DIR/jq_library.rs`.
//!
//! Parsing the whole library costs more than the rest of a `status` run; with one text
//! per definition, a filter parses only the definitions it reaches. Each printed text
//! is parsed again here and must give the same syntax tree, so the index cannot drift
//! from the definitions the crates ship.

// A build script reports a broken input by failing the build: it panics on purpose.
#![allow(clippy::expect_used)]

use std::fmt::Write as _;

use jaq_core::load::lex::StrPart;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::path::{Opt, Part};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/jq_builtins.jq");
    let ours = include_str!("src/jq_builtins.jq");
    let ours = jaq_core::load::parse(ours, |p| p.defs()).expect("src/jq_builtins.jq parses");
    let library = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(ours);
    let mut out = String::from(
        "/// The jq-defined standard library, one `(name, text)` per definition, in order.\n\
         pub const LIBRARY: &[(&str, &str)] = &[\n",
    );
    let mut names = Vec::new();
    for (i, def) in library.enumerate() {
        names.push((def.name, i));
        let text = def_text(&def);
        let again = jaq_core::load::parse(&text, |p| p.defs()).unwrap_or_default();
        assert_eq!(
            format!("{again:?}"),
            format!("{:?}", [&def]),
            "the printed definition does not parse back the same:\n{text}"
        );
        writeln!(out, "    ({:?}, {:?}),", def.name, text).expect("write to a String");
    }
    out.push_str("];\n");
    names.sort();
    out.push_str(
        "/// `(name, index in LIBRARY)`, sorted by name.\n\
         pub const BY_NAME: &[(&str, usize)] = &[\n",
    );
    for (name, i) in names {
        writeln!(out, "    ({name:?}, {i}),").expect("write to a String");
    }
    out.push_str("];\n");
    let dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(format!("{dir}/jq_library.rs"), out).expect("write jq_library.rs");
}

/// `def name(args): body;`
fn def_text(def: &Def<&str>) -> String {
    let mut s = format!("def {}", def.name);
    if !def.args.is_empty() {
        write!(s, "({})", def.args.join("; ")).expect("write to a String");
    }
    write!(s, ": {};", term(&def.body)).expect("write to a String");
    s
}

/// jq text for `t`, every sub-term in parentheses (which parse to nothing).
fn term(t: &Term<&str>) -> String {
    let p = |t: &Term<&str>| format!("({})", term(t));
    match t {
        Term::Id => ".".into(),
        Term::Recurse => "..".into(),
        Term::Num(n) => (*n).into(),
        Term::Str(format, parts) => {
            let mut s = format.map_or(String::new(), |f| format!("{f} "));
            s.push('"');
            for part in parts {
                match part {
                    StrPart::Str(text) => s.push_str(text),
                    StrPart::Term(t) => write!(s, "\\({})", term(t)).expect("write to a String"),
                    StrPart::Char(c) => s.push_str(&escape(*c)),
                }
            }
            s.push('"');
            s
        }
        Term::Arr(None) => "[]".into(),
        Term::Arr(Some(t)) => format!("[{}]", term(t)),
        Term::Obj(entries) => {
            let entries: Vec<_> = entries
                .iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{}: {}", p(k), p(v)),
                    None => term(k),
                })
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
        Term::Neg(t) => format!("-{}", p(t)),
        Term::BinOp(l, op, r) => {
            let op = match op {
                BinaryOp::Pipe(None) => "|".into(),
                BinaryOp::Pipe(Some(pat)) => format!("as {} |", pattern(pat)),
                BinaryOp::Comma => ",".into(),
                BinaryOp::Alt => "//".into(),
                BinaryOp::Or => "or".into(),
                BinaryOp::And => "and".into(),
                BinaryOp::Math(op) => op.as_str().into(),
                BinaryOp::Cmp(op) => op.as_str().into(),
                BinaryOp::Assign => "=".into(),
                BinaryOp::Update => "|=".into(),
                BinaryOp::UpdateMath(op) => format!("{}=", op.as_str()),
                BinaryOp::UpdateAlt => "//=".into(),
            };
            format!("{} {op} {}", p(l), p(r))
        }
        Term::Label(x, t) => format!("label {x} | {}", p(t)),
        Term::Break(x) => format!("break {x}"),
        Term::Fold(name, xs, pat, args) => {
            let args: Vec<_> = args.iter().map(p).collect();
            format!("{name} {} as {} ({})", p(xs), pattern(pat), args.join("; "))
        }
        Term::TryCatch(t, None) => format!("try {}", p(t)),
        Term::TryCatch(t, Some(c)) => format!("try {} catch {}", p(t), p(c)),
        Term::IfThenElse(branches, else_) => {
            let mut s = String::new();
            for (i, (cond, then)) in branches.iter().enumerate() {
                let kw = if i == 0 { "if" } else { " elif" };
                write!(s, "{kw} {} then {}", p(cond), p(then)).expect("write to a String");
            }
            if let Some(e) = else_ {
                write!(s, " else {}", p(e)).expect("write to a String");
            }
            s + " end"
        }
        Term::Def(defs, t) => {
            let defs: Vec<_> = defs.iter().map(def_text).collect();
            format!("{} {}", defs.join(" "), p(t))
        }
        Term::Call(name, args) if args.is_empty() => (*name).into(),
        Term::Call(name, args) => {
            let args: Vec<_> = args.iter().map(p).collect();
            format!("{name}({})", args.join("; "))
        }
        Term::Var(x) => (*x).into(),
        Term::Path(t, path) => {
            let mut s = p(t);
            for (part, opt) in &path.0 {
                match part {
                    Part::Index(i) => write!(s, "[{}]", term(i)),
                    Part::Range(from, upto) => {
                        let bound = |b: &Option<Term<&str>>| b.as_ref().map_or(String::new(), p);
                        match (from, upto) {
                            (None, None) => write!(s, "[]"),
                            _ => write!(s, "[{}:{}]", bound(from), bound(upto)),
                        }
                    }
                }
                .expect("write to a String");
                if let Opt::Optional = opt {
                    s.push('?');
                }
            }
            s
        }
    }
}

fn pattern(pat: &Pattern<&str>) -> String {
    match pat {
        Pattern::Var(x) => (*x).into(),
        Pattern::Arr(items) => {
            let items: Vec<_> = items.iter().map(pattern).collect();
            format!("[{}]", items.join(", "))
        }
        Pattern::Obj(entries) => {
            let entries: Vec<_> = entries
                .iter()
                .map(|(k, v)| format!("({}): {}", term(k), pattern(v)))
                .collect();
            format!("{{{}}}", entries.join(", "))
        }
    }
}

/// A string character that came from an escape, escaped again.
fn escape(c: char) -> String {
    match c {
        '"' => "\\\"".into(),
        '\\' => "\\\\".into(),
        '/' => "\\/".into(),
        '\x08' => "\\b".into(),
        '\x0c' => "\\f".into(),
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        c => format!("\\u{:04x}", u32::from(c)),
    }
}
