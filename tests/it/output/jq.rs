//! `--jq` through the real binary (SPEC §2, §9): the jq builtins people reach for, now that
//! `--jq` compiles only the standard-library definitions a filter can reach; the jq 1.7
//! builtins jaq lacks, defined here; outputs streamed as they are produced; and depth
//! bounds that end in an error, never a crash. Every run is `auth status … --jq …` with
//! `BASETEN_API_KEY` set, so no store is needed and the input is the env status object.
//!
//! Also `--jq` with each output format, its errors and what it sees of the environment.

use crate::common;

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;

use common::{Env, FIXTURE, compact, pretty};
use serde_json::json;

/// `baseten auth status -o jsonl --jq EXPR` with `BASETEN_API_KEY=x`: exit 0, no stderr,
/// and stdout.
#[track_caller]
fn jq(expr: &str) -> String {
    let env = Env::new();
    let out = env.run_env(
        &["auth", "status", "-o", "jsonl", "--jq", expr],
        "BASETEN_API_KEY",
        "x",
    );
    out.success().to_owned()
}

#[test]
fn common_builtins_work_through_the_binary() {
    let cases = [
        (".user", "null"),
        (".auth_type", r#""api_key""#),
        (r#".host | test("^https://app\\.")"#, "true"),
        (
            r#".host | sub("app"; "api")"#,
            r#""https://api.baseten.co""#,
        ),
        (r#".auth_type | ascii_downcase"#, r#""api_key""#),
        ("0 | todate", r#""1970-01-01T00:00:00Z""#),
        (".source | @base64", r#""ZW52""#),
        (r#""\(.source | @base64)!""#, r#""ZW52!""#),
        ("2.7 | floor", "2"),
        (r#"getpath(["auth_type"])"#, r#""api_key""#),
        (
            r#"[paths] | map(select(.[0] == "host" or .[0] == "source"))"#,
            r#"[["host"],["source"]]"#,
        ),
        (
            r#"to_entries | map(select(.key == "source")) | from_entries"#,
            r#"{"source":"env"}"#,
        ),
        ("[.[] | select(. == \"env\")]", r#"["env"]"#),
        (
            "[.user, .auth_type] | map(. // \"-\")",
            r#"["-","api_key"]"#,
        ),
        ("env.BASETEN_API_KEY, $ENV.BASETEN_API_KEY", "\"x\"\n\"x\""),
        ("[limit(2; range(10))]", "[0,1]"),
        (
            r#"[.host | splits("[.:]")]"#,
            r#"["https","//app","baseten","co"]"#,
        ),
        (r#".host | ltrimstr("https://")"#, r#""app.baseten.co""#),
        ("{a: 1} | tojson", r#""{\"a\":1}""#),
        (r#""[1,2]" | fromjson | add"#, "3"),
        ("keys | length > 3", "true"),
        (
            "with_entries(select(.value == null)) | has(\"user\")",
            "true",
        ),
        (
            "[.host, .source] | join(\" \")",
            r#""https://app.baseten.co env""#,
        ),
        ("def twice(f): f | f; 1 | twice(. * 3)", "9"),
        ("[1, [2]] | flatten | unique | max", "2"),
        (".source | @sh", r#""'env'""#),
        ("now | type", r#""number""#),
    ];
    check(&cases);
}

#[test]
fn undefined_builtins_are_still_reported() {
    let env = Env::new();
    let out = env.run_env(
        &["auth", "status", "--jq", "splits | nope"],
        "BASETEN_API_KEY",
        "x",
    );
    out.failure(
        2,
        &["undefined filter `splits/0`", "undefined filter `nope/0`"],
    );
}

/// Runs each `(expr, expected stdout)` and reports every mismatch at once.
#[track_caller]
fn check(cases: &[(&str, &str)]) {
    let mut wrong = Vec::new();
    for (expr, want) in cases {
        let got = jq(expr);
        if got != format!("{want}\n") {
            wrong.push(format!(
                "  --jq {expr:?}\n    printed  {got:?}\n    expected {want:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong jq results:\n{}", wrong.join("\n"));
}

/// The jq 1.7 builtins jaq does not have. Expected values are jq's: its manual's examples
/// where it gives one (marked), else what its manual describes.
#[test]
fn jq_builtins_that_jaq_lacks_work() {
    check(&[
        // @csv: strings quoted with quotes doubled, numbers and booleans bare, null empty.
        (
            r#"[1, "a\"b", null, true, 2.5] | @csv"#,
            r#""1,\"a\"\"b\",,true,2.5""#,
        ),
        (r#"[[1, "x"], []] | map(@csv)"#, r#"["1,\"x\"",""]"#),
        // @tsv: tab, newline, carriage return and backslash escaped.
        (
            r#"["a\tb", "c\nd\re\\f", null, 1, false] | @tsv"#,
            r#""a\\tb\tc\\nd\\re\\\\f\t\t1\tfalse""#,
        ),
        (r#"@csv "row: \([1, "x"])""#, r#""row: 1,\"x\"""#),
        // @base32 / @base32d (RFC 4648).
        (r#""foobar" | @base32"#, r#""MZXW6YTBOI======""#),
        (r#""MZXW6YTBOI======" | @base32d"#, r#""foobar""#),
        (
            r#""This is a message" | @base32 | @base32d"#,
            r#""This is a message""#,
        ),
        (r#"@base32 "x\(1)""#, r#""xGE======""#),
        // IN, INDEX, JOIN.
        (
            "[range(0; 6) | IN(2, 3)]",
            "[false,false,true,true,false,false]",
        ),
        ("IN(range(10); 5, 20)", "true"),
        ("IN(range(3); 5, 20)", "false"),
        (
            r#"[{"id": 1, "n": "a"}, {"id": 2, "n": "b"}] | INDEX(.id)"#,
            r#"{"1":{"id":1,"n":"a"},"2":{"id":2,"n":"b"}}"#,
        ),
        (
            r#"INDEX({"k": "x"}, {"k": "y"}; .k) | keys"#,
            r#"["x","y"]"#,
        ),
        (
            r#"{"1": "one"} as $names | [1, 2] | JOIN($names; tostring)"#,
            r#"[[1,"one"],[2,null]]"#,
        ),
        // tostream, fromstream, truncate_stream: the manual's examples first.
        (
            r#"[0,[1,{"a":1},{"b":2}]] | . as $dot | fromstream($dot | tostream) | . == $dot"#,
            "true",
        ),
        (
            r#"[1 | truncate_stream([[0],"a"],[[1,0],"b"],[[1,0]],[[1]])]"#,
            r#"[[[0],"b"],[[0]]]"#,
        ),
        (
            r#"fromstream(1 | truncate_stream([[0],"a"],[[1,0],"b"],[[1,0]],[[1]]))"#,
            r#"["b"]"#,
        ),
        (
            r#"{"a": [1, {"b": 2}]} | [tostream]"#,
            r#"[[["a",0],1],[["a",1,"b"],2],[["a",1,"b"]],[["a",1]],[["a"]]]"#,
        ),
        (
            "[1, [], {}] | [tostream]",
            "[[[0],1],[[1],[]],[[2],{}],[[2]]]",
        ),
        (
            r#"[fromstream((3, [], {"a": [1]}) | tostream)]"#,
            r#"[3,[],{"a":[1]}]"#,
        ),
        // leaf_paths, toarray, trimstr (manual example), ascii.
        (
            r#"{"a": [1, {"b": null}], "c": "x"} | [leaf_paths]"#,
            r#"[["a",0],["c"]]"#,
        ),
        ("[1, [2]] | map(toarray)", "[[1],[2]]"),
        (
            r#"["fo", "foo", "barfoo", "foobarfoo", "foob"] | [.[] | trimstr("foo")]"#,
            r#"["fo","","bar","bar","b"]"#,
        ),
        ("[65, 97, 48] | map(ascii) | add", r#""Aa0""#),
        ("have_literal_numbers, have_decnum", "true\nfalse"),
        // jq's join: the manual's examples.
        (r#"["a","b,c,d","e"] | join(", ")"#, r#""a, b,c,d, e""#),
        (
            r#"["a",1,2.3,true,null,false] | join(" ")"#,
            r#""a 1 2.3 true  false""#,
        ),
        (r#"[] | join("-")"#, r#""""#),
    ]);
}

/// Errors of the new builtins are jq errors (exit 1), worded like jq's.
#[test]
fn builtins_that_jaq_lacks_report_bad_input() {
    let env = Env::new();
    for (expr, needle) in [
        (
            r#"[{"a": 1}] | @csv"#,
            r#"object ({"a":1}) is not valid in a csv row"#,
        ),
        (r#"[[1]] | @tsv"#, "array ([1]) is not valid in a tsv row"),
        (r#""1" | @base32d"#, "is not valid base32 data"),
        (r#"[[1]] | join(",")"#, "cannot join array"),
        ("200 | ascii", "ascii takes a code point from 0 to 127"),
    ] {
        let out = env.run_env(
            &["auth", "status", "-o", "jsonl", "--jq", expr],
            "BASETEN_API_KEY",
            "x",
        );
        out.failure(1, &["jq error: ", needle]);
    }
}

/// Filters that stop after a few outputs of an endless or huge generator finish.
#[test]
fn limited_endless_generators_finish() {
    check(&[
        (
            "[limit(3; repeat(.auth_type))]",
            r#"["api_key","api_key","api_key"]"#,
        ),
        ("first(range(1e18))", "0"),
        ("[limit(4; 1 | recurse(. * 2))]", "[1,2,4,8]"),
    ]);
}

/// An endless filter's outputs arrive while it runs: the test reads the first lines and
/// then kills the process, which would never have printed anything had it collected
/// its outputs first.
#[test]
fn an_endless_filter_streams_until_interrupted() {
    let env = Env::new();
    let mut child = env
        .cmd(&[
            "auth",
            "status",
            "-o",
            "jsonl",
            "--jq",
            "0 | recurse(. + 1)",
        ])
        .env("BASETEN_API_KEY", "x")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn baseten");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(5000)
        .map(|l| l.expect("read a line"))
        .collect();
    child.kill().expect("kill baseten");
    child.wait().expect("reap baseten");
    let expected: Vec<String> = (0..5000).map(|i| i.to_string()).collect();
    assert_eq!(lines, expected);
}

/// A reader that goes away (`| head`) ends an endless filter quietly: exit 0, nothing on
/// stderr.
#[test]
fn a_closed_pipe_ends_an_endless_filter_quietly() {
    let env = Env::new();
    let mut child = env
        .cmd(&["auth", "status", "--jq", "repeat(.)"])
        .env("BASETEN_API_KEY", "x")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn baseten");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut first = [0u8; 4096];
    stdout
        .read_exact(&mut first)
        .expect("read the first outputs");
    assert!(first.starts_with(b"{\n  \"host\""), "{first:?}");
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("read stderr");
    let status = child.wait().expect("reap baseten");
    assert_eq!(status.code(), Some(0), "stderr: {stderr}");
    assert_eq!(stderr, "");
}

/// An expression nested deeper than the limit is a usage error, whatever builds the
/// depth; one just inside it runs.
#[test]
fn deeply_nested_expressions_are_usage_errors() {
    let env = Env::new();
    let brackets = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let parens = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
    let pipes = vec!["."; 5000].join(" | ");
    let negations = format!("{}1", "-".repeat(5000));
    let strings = format!("{}1{}", r#""\("#.repeat(5000), r#")""#.repeat(5000));
    for expr in [&brackets, &parens, &pipes, &negations, &strings] {
        let out = env.run_env(&["auth", "status", "--jq", expr], "BASETEN_API_KEY", "x");
        out.failure(
            2,
            &["invalid --jq expression: the expression is nested too deeply"],
        );
    }
    let fits = format!("{}1{} | flatten", "[".repeat(999), "]".repeat(999));
    assert_eq!(jq(&fits), "[1]\n");
}

/// Recursion without end is a jq error, never a stack overflow; recursion that ends,
/// and loops in tail position, run.
#[test]
fn endless_recursion_is_a_jq_error() {
    let env = Env::new();
    for expr in ["def f: [f]; f", "def f: 1 + f; f", "def f: {a: f}; f | .a"] {
        let out = env.run_env(
            &["auth", "status", "-o", "jsonl", "--jq", expr],
            "BASETEN_API_KEY",
            "x",
        );
        out.failure(1, &["jq error: ", "too deep"]);
    }
    check(&[
        (
            "def sum: if . == 0 then 0 else . + (. - 1 | sum) end; 2000 | sum",
            "2001000",
        ),
        (
            "def count: if . < 300000 then . + 1 | count else . end; 0 | count",
            "300000",
        ),
    ]);
}

/// The `token` result of [`FIXTURE`]'s active account.
pub(crate) fn token_result() -> serde_json::Value {
    json!({
        "profile": "me@example.com",
        "user": "me@example.com",
        "auth_type": "oauth",
        "token": "access-abc",
        "header": "Bearer access-abc"
    })
}

#[test]
fn jq_prints_json_quoted_strings_and_implies_json() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", ".user"]);
    assert_eq!(out.success(), "\"me@example.com\"\n");

    let out = env.run(&["auth", "token", "--jq", "."]);
    assert_eq!(out.success(), pretty(&token_result()));
    let out = env.run(&["auth", "token", "--jq", ".", "--output", "json"]);
    assert_eq!(out.success(), pretty(&token_result()));

    let out = env.run(&["auth", "token", "--jq", "{user, n: 1}"]);
    assert_eq!(
        out.success(),
        pretty(&json!({ "user": "me@example.com", "n": 1 }))
    );
}

#[test]
fn jq_with_jsonl_is_compact() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "token", "--jq", ".", "-o", "jsonl"]);
    assert_eq!(out.success(), compact(&token_result()));
    let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", "{user, n: 1}"]);
    assert_eq!(out.success(), "{\"user\":\"me@example.com\",\"n\":1}\n");
    let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", "[.user, .token]"]);
    assert_eq!(out.success(), "[\"me@example.com\",\"access-abc\"]\n");
}

#[test]
fn jq_prints_each_value_on_its_own_line() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", ".host, .user"]);
    assert_eq!(
        out.success(),
        "\"https://app.baseten.co\"\n\"me@example.com\"\n"
    );
    let out = env.run(&["auth", "token", "--jq", "empty"]);
    assert_eq!(out.success(), "");
    let out = env.run(&["auth", "token", "--jq", ".user, [1, 2]"]);
    assert_eq!(out.success(), "\"me@example.com\"\n[\n  1,\n  2\n]\n");
}

#[test]
fn jq_with_text_or_none_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    for format in ["text", "none"] {
        let message = format!("--jq cannot be used with --output {format}");
        let out = env.run(&["auth", "status", "--jq", ".user", "--output", format]);
        out.failure(2, &[&message, "Usage: baseten auth status"]);
        let out = env.run(&["auth", "token", "-o", format, "-q", ".user"]);
        out.failure(2, &[&message, "Usage: baseten auth token"]);
    }
}

#[test]
fn jq_syntax_error_is_a_usage_error() {
    let env = Env::with_auth(FIXTURE);
    for expr in [".user |", "{", ".[", "nosuchfunction(1; 2; 3)"] {
        let out = env.run(&["auth", "status", "--jq", expr]);
        let stderr = out.failure(2, &["Usage: baseten auth status"]);
        // The parser's message, not just the usage line.
        assert!(
            stderr.lines().next().unwrap().len() > "error: ".len(),
            "{expr}"
        );
    }
    // Detected before any file write.
    let out = env.run(&["auth", "switch", "--user", "ci-bot", "--jq", ".user |"]);
    out.failure(2, &[]);
    assert_eq!(env.read_auth(), FIXTURE);
}

#[test]
fn jq_runtime_error_exits_1() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", "error(\"boom\")"]);
    let stderr = out.failure(1, &["boom"]);
    assert!(stderr.starts_with("error: jq error:"), "{stderr}");
    let out = env.run(&["auth", "status", "--jq", ".user + 1"]);
    let stderr = out.failure(1, &[]);
    assert!(stderr.starts_with("error: jq error:"), "{stderr}");
}

#[test]
fn a_long_jq_error_is_cut_to_a_marked_excerpt() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run(&["auth", "status", "--jq", "error([range(5000)] | tostring)"]);
    let stderr = out.failure(1, &["jq error: ", "[0,1,2,"]);
    let line = stderr.lines().next().unwrap_or_default();
    assert!(line.ends_with('…'), "{line}");
    assert!(line.chars().count() <= 200 + 20, "{line}");
}

#[test]
fn jq_sees_the_environment() {
    let env = Env::with_auth(FIXTURE);
    let out = env.run_env(
        &["auth", "token", "--jq", "$ENV.SOMEVAR"],
        "SOMEVAR",
        "hello there",
    );
    assert_eq!(out.success(), "\"hello there\"\n");
    let out = env.run_env(&["auth", "token", "--jq", "env.SOMEVAR"], "SOMEVAR", "x");
    assert_eq!(out.success(), "\"x\"\n");
    let out = env.run(&["auth", "token", "--jq", "$ENV.BASETEN_NO_SUCH_VAR"]);
    assert_eq!(out.success(), "null\n");
}

#[test]
fn usual_jq_builtins_work() {
    let env = Env::with_auth(FIXTURE);
    for (expr, expected) in [
        (".user | split(\"@\") | .[1]", "\"example.com\"\n"),
        (".user | ascii_upcase", "\"ME@EXAMPLE.COM\"\n"),
        (".token | length", "10\n"),
        (
            "[.user, .auth_type] | join(\" \")",
            "\"me@example.com oauth\"\n",
        ),
        ("keys | sort | .[0]", "\"auth_type\"\n"),
        (
            "to_entries | map(.key) | index(\"token\") != null",
            "true\n",
        ),
        (".user | test(\"^me@\")", "true\n"),
        ("select(.auth_type == \"api_key\") | .user", ""),
        ("has(\"token\")", "true\n"),
        (".token | @base64", "\"YWNjZXNzLWFiYw==\"\n"),
        (
            "[(.user | ltrimstr(\"me@\")), (1, 2 | tostring)]",
            "[\"example.com\",\"1\",\"2\"]\n",
        ),
    ] {
        let out = env.run(&["auth", "token", "-o", "jsonl", "--jq", expr]);
        assert_eq!(out.success(), expected, "{expr}");
    }
}
