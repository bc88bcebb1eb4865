//! The jq builtins people reach for still work through the real binary now that `--jq`
//! compiles only the standard-library definitions a filter can reach (SPEC §2: "the usual
//! jq builtins must work"). Every run is `auth status -o jsonl --jq …` with
//! `BASETEN_API_KEY` set, so no store is needed and the input is the env status object.

mod common;

use common::Env;

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
