//! Bridge between `serde_json` and the jaq jq engine, backing the `--jq EXPR` flag.
//!
//! jaq works on its own value type (`jaq_json::Val`) and reports errors as
//! structured data; this module hides that behind a small `String`-error API
//! that takes and returns `serde_json::Value`s.
//!
//! Parsing and compiling the whole jq standard library (about 130 definitions written in
//! jq) costs several times what the rest of a `status` run does, so a filter gets only
//! the definitions it can reach: those named by a word of the filter, then,
//! transitively, those named by a word of their own text. The text of the definitions is
//! kept in `jq_defs.jq`, a verbatim copy of what the jaq crates define; the tests check
//! it against them. Native filters (`length`, `matches`, ...) are offered the same way,
//! when a word of the filter or of a kept definition names them, and `$ENV` is built
//! only when it is reachable. Words are a superset of the names called, so every
//! builtin stays available; a filter that loads modules gets everything.

use std::collections::{BTreeMap, HashSet};

use jaq_core::data::JustLut;
use jaq_core::load::{self, Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars};
use jaq_json::{Num, Val};
use serde::Deserialize;
use serde_json::{Number, Value};

/// A compiled jq filter.
pub struct Filter {
    filter: jaq_core::Filter<JustLut<Val>>,
    /// Whether the filter can read `$ENV` (else it is bound to null, unseen).
    env: bool,
}

impl Filter {
    /// Compiles `expr` with the jq standard library; `$ENV` holds the process environment.
    pub fn compile(expr: &str) -> Result<Filter, String> {
        let reach = reachable(expr);
        let defs = load::parse(&reach.defs, |p| p.defs()).unwrap_or_default();
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
            .filter(|(name, _, _)| reach.has(name));
        let arena = Arena::default();
        let file = File {
            code: expr,
            path: (),
        };
        let modules = Loader::new(defs)
            .load(&arena, file)
            .map_err(|errs| join(errs.into_iter().flat_map(|(_, e)| load_error(expr, e))))?;
        let filter = Compiler::default()
            .with_funs(funs)
            .with_global_vars(["$ENV"])
            .compile(modules)
            .map_err(|errs| join(errs.into_iter().flat_map(|(_, e)| e).map(compile_error)))?;
        let env = reach.has("$ENV");
        Ok(Filter { filter, env })
    }

    /// Runs the filter on `input` and collects every output; `Err` is the first runtime error.
    pub fn run(&self, input: Value) -> Result<Vec<Value>, String> {
        let input = Val::deserialize(input).map_err(|e| e.to_string())?;
        let env = if self.env { env() } else { Val::Null };
        let ctx = Ctx::<JustLut<Val>>::new(&self.filter.lut, Vars::new([env]));
        let mut outputs = Vec::new();
        for out in self.filter.id.run((ctx, input)) {
            match out {
                Ok(v) => outputs.push(to_json(&v)),
                Err(exn) => match exn.get_err() {
                    // Like jq: string errors print raw, other values as JSON.
                    Ok(err) => match err.into_val() {
                        Val::TStr(msg) => return Err(String::from_utf8_lossy(&msg).into_owned()),
                        other => return Err(format!("{other} (not a string)")),
                    },
                    Err(exn) => match exn.get_halt() {
                        Ok(0) => break,
                        Ok(code) => return Err(format!("halted with exit code {code}")),
                        Err(_) => return Err("unexpected control flow".into()),
                    },
                },
            }
        }
        Ok(outputs)
    }
}

/// The jq-defined standard library of jaq-core, jaq-std and jaq-json, plus our own.
const DEFS: &str = concat!(
    include_str!("jq_defs.jq"),
    // jaq-std's native `env` panics on non-UTF-8 variables; shadow it with `$ENV`.
    "def env: $ENV;\n",
);

/// Where `name` is defined at the top level of [`DEFS`]: the offset and text of each of
/// its definitions (a definition's text runs up to the next line that starts with `def `).
fn definitions_of(name: &str) -> impl Iterator<Item = (usize, &'static str)> + '_ {
    DEFS.match_indices(name).filter_map(move |(i, _)| {
        let after = DEFS[i + name.len()..].chars().next();
        let whole = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        // `def`, one or more spaces (some names are aligned), then the name.
        let before = DEFS[..i].trim_end_matches(' ');
        if !whole || before.len() == i || !before.ends_with("\ndef") {
            return None;
        }
        let start = before.len() - "def".len();
        let end = DEFS[i..].find("\ndef ").map_or(DEFS.len(), |e| i + e + 1);
        Some((start, &DEFS[start..end]))
    })
}

/// The words of jq text: runs of letters, digits, `_`, with a leading `@` or `$` kept
/// (so variables never match a definition). Strings and comments are not skipped, which
/// only ever keeps a definition too many.
fn words(text: &str) -> impl Iterator<Item = &str> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| word(c) || c == '@' || c == '$')?;
        let tail = &rest[start + 1..];
        let len = 1 + tail.find(|c: char| !word(c)).unwrap_or(tail.len());
        let w = &rest[start..start + len];
        rest = &rest[start + len..];
        Some(w)
    })
}

/// What a filter can reach.
struct Reach<'a> {
    /// The text of the definitions it needs, in their original order (a definition sees
    /// only those before it).
    defs: String,
    /// Every word of the filter and of those definitions: the native filters it may call,
    /// and whether it reads `$ENV`. `None`: anything.
    words: Option<HashSet<&'a str>>,
}

impl Reach<'_> {
    fn has(&self, word: &str) -> bool {
        self.words.as_ref().is_none_or(|w| w.contains(word))
    }
}

/// The definitions and natives `expr` can reach: those named by its words, then by the
/// words of those definitions, and so on. Names are matched without arity. When `expr`
/// loads modules, everything.
fn reachable(expr: &str) -> Reach<'_> {
    let mut wanted: Vec<&str> = words(expr).collect();
    if wanted.iter().any(|w| matches!(*w, "import" | "include")) {
        return Reach {
            defs: DEFS.to_owned(),
            words: None,
        };
    }
    let mut seen = HashSet::new();
    let mut kept = BTreeMap::new();
    while let Some(name) = wanted.pop() {
        if seen.insert(name) {
            for (start, text) in definitions_of(name) {
                if kept.insert(start, text).is_none() {
                    wanted.extend(words(text).skip(2));
                }
            }
        }
    }
    Reach {
        defs: kept.into_values().collect(),
        words: Some(seen),
    }
}

/// The process environment as a jq object (lossy for non-UTF-8 names or values).
fn env() -> Val {
    let lossy = |s: std::ffi::OsString| Val::from(s.to_string_lossy().into_owned());
    Val::obj(
        std::env::vars_os()
            .map(|(k, v)| (lossy(k), lossy(v)))
            .collect(),
    )
}

fn join(msgs: impl Iterator<Item = String>) -> String {
    msgs.collect::<Vec<_>>().join("; ")
}

/// Describes the token `found` (a slice of `code`) and its byte offset.
fn found_at(code: &str, found: &str) -> String {
    let offset = (found.as_ptr() as usize)
        .checked_sub(code.as_ptr() as usize)
        .filter(|o| *o <= code.len())
        .map_or(String::new(), |o| format!(" at offset {o}"));
    if found.is_empty() {
        return format!("end of input{offset}");
    }
    let short: String = found.chars().take(20).collect();
    let dots = if short.len() < found.len() { "..." } else { "" };
    format!("`{short}{dots}`{offset}")
}

fn load_error(code: &str, err: load::Error<&str>) -> Vec<String> {
    let expected = |exp: &str, found| format!("expected {exp}, found {}", found_at(code, found));
    match err {
        load::Error::Io(errs) => errs.into_iter().map(|(p, e)| format!("{p}: {e}")).collect(),
        // The lexer reports the whole remaining input as `found`; keep its first character.
        load::Error::Lex(errs) => errs
            .into_iter()
            .map(|(exp, rest)| {
                expected(
                    exp.as_str(),
                    rest.char_indices().nth(1).map_or(rest, |(i, _)| &rest[..i]),
                )
            })
            .collect(),
        load::Error::Parse(errs) => errs
            .into_iter()
            .map(|(exp, found)| expected(exp.as_str(), found))
            .collect(),
    }
}

fn compile_error((name, undef): jaq_core::compile::Error<&str>) -> String {
    use jaq_core::compile::Undefined;
    match undef {
        Undefined::Filter(arity) => format!("undefined filter `{name}/{arity}`"),
        other => format!("undefined {} `{name}`", other.as_str()),
    }
}

/// Converts a jaq value to JSON: integers stay exact when they fit i64/u64,
/// integral floats below 2^53 print as integers (like jq), NaN/infinity become null.
fn to_json(v: &Val) -> Value {
    match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(n),
        Val::TStr(b) | Val::BStr(b) => Value::String(String::from_utf8_lossy(b).into_owned()),
        Val::Arr(a) => Value::Array(a.iter().map(to_json).collect()),
        Val::Obj(o) => {
            let key = |k: &Val| match k {
                Val::TStr(b) | Val::BStr(b) => String::from_utf8_lossy(b).into_owned(),
                other => other.to_string(),
            };
            Value::Object(o.iter().map(|(k, v)| (key(k), to_json(v))).collect())
        }
    }
}

fn num_to_json(n: &Num) -> Value {
    let text = match n {
        Num::Int(i) => return Value::from(*i as i64),
        Num::Float(f) => return float_to_json(*f),
        Num::BigInt(i) => i.to_string(),
        Num::Dec(d) => d.to_string(),
    };
    if let Ok(i) = text.parse::<i64>() {
        Value::from(i)
    } else if let Ok(u) = text.parse::<u64>() {
        Value::from(u)
    } else {
        float_to_json(text.parse().unwrap_or(f64::NAN))
    }
}

fn float_to_json(f: f64) -> Value {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    if f.fract() == 0.0 && f.abs() <= EXACT {
        Value::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

#[cfg(test)]
mod tests {
    use super::{DEFS, Filter, definitions_of, reachable};
    use jaq_core::load;
    use serde_json::{Value, json};

    fn run(expr: &str, input: Value) -> Result<Vec<Value>, String> {
        Filter::compile(expr)?.run(input)
    }

    fn one(expr: &str, input: Value) -> Value {
        let mut out = run(expr, input).expect("filter should succeed");
        assert_eq!(out.len(), 1, "expected exactly one output");
        out.remove(0)
    }

    #[test]
    fn field_access() {
        let input = json!({"user": {"login": "ada"}, "id": 1});
        assert_eq!(one(".user", input.clone()), json!({"login": "ada"}));
        assert_eq!(one(".user.login", input), json!("ada"));
    }

    #[test]
    fn iterate_yields_several_outputs() {
        let out = run(".[]", json!([1, "two", null])).unwrap();
        assert_eq!(out, vec![json!(1), json!("two"), Value::Null]);
    }

    #[test]
    fn standard_library() {
        let obj = json!({"b": 1, "a": {"b": [true]}});
        assert_eq!(one("keys", obj.clone()), json!(["a", "b"]));
        assert_eq!(one(r#"getpath(["a","b"])"#, obj.clone()), json!([true]));
        assert_eq!(one("length", obj.clone()), json!(2));
        assert_eq!(one("tostring", json!({"x": 1})), json!(r#"{"x":1}"#));
        assert_eq!(one("map(. * 2)", json!([1, 2])), json!([2, 4]));
        assert_eq!(
            one("[.[] | select(. > 1)]", json!([1, 2, 3])),
            json!([2, 3])
        );
        assert_eq!(one("10 / 4", Value::Null), json!(2.5));
        assert_eq!(one("10 / 2", Value::Null), json!(5));
    }

    #[test]
    fn object_key_order_is_kept() {
        let out = one(". + {a: 0}", json!({"z": 1, "m": 2}));
        assert_eq!(
            serde_json::to_string(&out).unwrap(),
            r#"{"z":1,"m":2,"a":0}"#
        );
    }

    #[test]
    fn env_is_bound() {
        let Ok(path) = std::env::var("PATH") else {
            return;
        };
        assert_eq!(one("$ENV.PATH", Value::Null), json!(path));
        assert_eq!(one("env.PATH", Value::Null), json!(path));
    }

    #[test]
    fn syntax_error_is_reported() {
        let err = Filter::compile(".a |").err().expect("should fail");
        assert_eq!(err, "expected term, found end of input at offset 4");
        let err = Filter::compile("(.a").err().expect("should fail");
        assert!(err.contains("closing parenthesis"), "{err}");
        let err = Filter::compile(". | §x").err().expect("should fail");
        assert_eq!(err, "expected token, found `§` at offset 4");
    }

    #[test]
    fn undefined_filter_is_reported() {
        let err = Filter::compile("foo | bar(1)").err().expect("should fail");
        assert_eq!(err, "undefined filter `foo/0`; undefined filter `bar/1`");
        let err = Filter::compile("$nope").err().expect("should fail");
        assert_eq!(err, "undefined variable `$nope`");
        assert!(Filter::compile("input").is_err() || run("input", Value::Null).is_err());
    }

    #[test]
    fn runtime_errors_are_reported() {
        let err = run(".a + 1", json!({"a": "x"})).unwrap_err();
        assert!(err.contains("cannot"), "{err}");
        assert_eq!(run(r#"error("boom")"#, Value::Null), Err("boom".into()));
        let err = run("error({a: 1})", Value::Null).unwrap_err();
        assert_eq!(err, r#"{"a":1} (not a string)"#);
        let err = run("1, error(\"late\")", Value::Null).unwrap_err();
        assert!(err.contains("late"), "{err}");
    }

    #[test]
    fn halt_stops_without_error() {
        assert_eq!(run("1, halt, 2", Value::Null).unwrap(), vec![json!(1)]);
        assert!(run("halt_error(3)", json!("")).is_err());
    }

    #[test]
    fn large_integers_round_trip() {
        // 12345678901234567890 fits u64 but not i64: serde_json hands jaq a u64,
        // jaq keeps it as an exact big integer, and it comes back as a u64.
        let big: Value = serde_json::from_str("12345678901234567890").unwrap();
        assert_eq!(one(".", big.clone()), big);
        assert_eq!(one(".", json!(i64::MIN)), json!(i64::MIN));
        // Literals beyond u64 have no exact serde_json form (no arbitrary_precision),
        // so they degrade to the nearest f64.
        assert_eq!(
            one("123456789012345678901234567890", Value::Null),
            json!(1.2345678901234568e29)
        );
        // Integer arithmetic that overflows i64 is exact in jaq, then degrades likewise.
        assert_eq!(one(". * 1000", big), json!(1.2345678901234567e22));
    }

    #[test]
    fn non_finite_numbers_become_null() {
        assert_eq!(one("1e1000", Value::Null), Value::Null);
        assert_eq!(one("-1e1000", Value::Null), Value::Null);
        assert_eq!(one("nan", Value::Null), Value::Null);
        assert_eq!(one("infinite", Value::Null), Value::Null);
        assert_eq!(one("1.5", Value::Null), json!(1.5));
    }

    /// `jq_defs.jq` is exactly what the locked jaq crates define in jq.
    #[test]
    fn defs_are_the_crates_definitions() {
        let ours = load::parse(include_str!("jq_defs.jq"), |p| p.defs()).expect("parses");
        let theirs: Vec<_> = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .collect();
        assert_eq!(
            format!("{ours:?}"),
            format!("{theirs:?}"),
            "src/jq_defs.jq differs from the jaq crates' definitions: refresh it from their src/defs.jq"
        );
    }

    /// `definitions_of` finds exactly the top-level definitions, one text each.
    #[test]
    fn definitions_of_finds_the_top_level_definitions() {
        let all = load::parse(DEFS, |p| p.defs()).expect("parses");
        let names: std::collections::BTreeSet<_> = all.iter().map(|d| d.name).collect();
        let mut found = Vec::new();
        for name in names {
            for (start, text) in definitions_of(name) {
                let defs = load::parse(text, |p| p.defs()).unwrap_or_default();
                assert_eq!(defs.len(), 1, "not one definition:\n{text}");
                assert_eq!(defs[0].name, name, "{text}");
                found.push((start, name));
            }
        }
        found.sort();
        let found: Vec<_> = found.into_iter().map(|f| f.1).collect();
        assert_eq!(found, all.iter().map(|d| d.name).collect::<Vec<_>>());
    }

    /// Every definition, called with its arity, compiles with what it can reach.
    #[test]
    fn every_definition_compiles_alone() {
        for def in load::parse(DEFS, |p| p.defs()).expect("parses") {
            let args = vec!["."; def.args.len()].join("; ");
            let call = if args.is_empty() {
                def.name.to_owned()
            } else {
                format!("{}({args})", def.name)
            };
            let expr = format!("def probe: {call}; 0");
            if let Err(e) = Filter::compile(&expr) {
                panic!("{expr}: {e}");
            }
        }
    }

    #[test]
    fn only_reachable_definitions_are_kept() {
        let reach = reachable(".user");
        assert_eq!(reach.defs, "");
        assert!(reach.has("user") && !reach.has("length") && !reach.has("$ENV"));
        let text = reachable("map(.a)").defs;
        assert!(text.starts_with("def map(f):"), "{text}");
        let reach = reachable(r#".x | test("a")"#);
        for name in ["test(re; flags):", "test(re):", "def any(", "def isempty("] {
            assert!(
                reach.defs.contains(name),
                "{name} missing from {}",
                reach.defs
            );
        }
        assert!(!reach.defs.contains("def map("), "{}", reach.defs);
        assert!(reach.has("matches"), "the native under test/2");
        assert!(reachable("env.HOME").has("$ENV"));
        let all = reachable(r#"include "x"; ."#);
        assert_eq!(all.defs, DEFS);
        assert!(all.has("anything"));
    }

    #[test]
    fn common_builtins_work() {
        let cases = [
            (r#"test("^a")"#, json!("abc"), json!(true)),
            (r#"sub("b"; "x")"#, json!("abc"), json!("axc")),
            (r#"gsub("[ac]"; "_")"#, json!("abc"), json!("_b_")),
            ("ascii_downcase", json!("ABC"), json!("abc")),
            ("todate", json!(0), json!("1970-01-01T00:00:00Z")),
            ("@base64", json!("hi"), json!("aGk=")),
            ("@base64d", json!("aGk="), json!("hi")),
            (r#"@sh "echo \(.)""#, json!("a b"), json!("echo 'a b'")),
            ("floor", json!(1.5), json!(1)),
            ("[paths]", json!({"a": [1]}), json!([["a"], ["a", 0]])),
            (
                "to_entries",
                json!({"a": 1}),
                json!([{"key": "a", "value": 1}]),
            ),
            (
                "with_entries(.value += 1)",
                json!({"a": 1}),
                json!({"a": 2}),
            ),
            ("[limit(2; .[])]", json!([1, 2, 3]), json!([1, 2])),
            (
                r#"[splits(", *")]"#,
                json!("a, b,c"),
                json!(["a", "b", "c"]),
            ),
            (r#"ltrimstr("a")"#, json!("abc"), json!("bc")),
            ("tojson", json!([1]), json!("[1]")),
            ("fromjson", json!("[1]"), json!([1])),
            ("tonumber", json!("12"), json!(12)),
            ("[.[] | numbers]", json!([1, "a"]), json!([1])),
            ("add / length", json!([1, 2, 3]), json!(2)),
            ("unique", json!([2, 1, 2]), json!([1, 2])),
            ("min_by(.a) | .a", json!([{"a": 2}, {"a": 1}]), json!(1)),
            ("flatten", json!([1, [2, [3]]]), json!([1, 2, 3])),
            ("del(.a)", json!({"a": 1, "b": 2}), json!({"b": 2})),
            ("any(. > 2)", json!([1, 3]), json!(true)),
            ("join(\",\")", json!(["a", "b"]), json!("a,b")),
            ("type", json!(null), json!("null")),
            ("[.[] | tostring]", json!([1, "a"]), json!(["1", "a"])),
            ("index(\"b\")", json!("abc"), json!(1)),
            ("def f: . + 1; f | f", json!(1), json!(3)),
        ];
        for (expr, input, want) in cases {
            assert_eq!(one(expr, input), want, "{expr}");
        }
    }
}
