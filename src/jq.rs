//! Bridge between `serde_json` and the jaq jq engine, backing the `--jq EXPR` flag.
//!
//! jaq works on its own value type (`jaq_json::Val`) and reports errors as structured
//! data; this module hides that behind a small `String`-error API over
//! `serde_json::Value`s, and adds what jaq leaves to its callers (SPEC §9):
//!
//! - Outputs stream: each is handed over as soon as jaq yields it, so endless filters
//!   run in bounded memory and stop when the reader goes away.
//! - Depth: an expression nested deeper than [`MAX_NESTING`] is refused before jaq
//!   parses it, and the filter is compiled and run on a thread with a large stack where
//!   every call of a jq definition first checks how much of that stack is in use; past
//!   [`RECURSION_BUDGET`] the call fails with "too deep" instead of overflowing.
//! - Speed: parsing jaq's whole jq-defined standard library costs several times a
//!   `status` run, so build.rs indexes it (one text per definition, printed back from
//!   the crates' own `defs()`). A filter that calls only natives needs none of it; any
//!   other parses and compiles only the definitions it reaches.
//! - jq 1.7 builtins that jaq lacks, in `jq_builtins.jq` and the natives below.

use std::cell::Cell;
use std::collections::HashSet;
use std::ops::ControlFlow;
use std::sync::mpsc;

use jaq_core::box_iter::box_once;
use jaq_core::data::JustLut;
use jaq_core::load::parse::{BinaryOp, Def, Pattern, Term};
use jaq_core::load::{self, Arena, File, Loader, lex::StrPart};
use jaq_core::native::{Fun, bome, v};
use jaq_core::path::Part;
use jaq_core::{Compiler, Ctx, Error as JqError, Exn, Native, Vars};
use jaq_json::{Num, Val};
use serde::Deserialize;
use serde_json::{Number, Value};

type Data = JustLut<Val>;

/// Deepest nesting of an expression that is compiled (see [`nesting`]).
const MAX_NESTING: usize = 1000;
/// Stack of the thread that compiles and runs filters: room for [`MAX_NESTING`] levels
/// of parser, compiler and interpreter recursion on top of [`RECURSION_BUDGET`].
const STACK_SIZE: usize = 256 << 20;
/// Nesting that the calling thread's stack compiles without the large one (a thread
/// costs more than compiling a short filter).
const SHALLOW: usize = 64;
/// Stack that jq definitions may use before a call fails as too deep.
const RECURSION_BUDGET: usize = 64 << 20;
/// Outputs that may wait between the filter thread and the printer.
const QUEUE: usize = 64;

/// The name under which the user's expression is compiled, as the last definition.
const MAIN: &str = "baseten_jq_main";
/// The native that checks the stack on entry to every definition. Its name has a space,
/// so no filter can call it.
const GUARD: &str = "depth guard";

// `LIBRARY`: jaq's definitions, then ours from `jq_builtins.jq` (jq 1.7 builtins that
// jaq lacks, and our `join` and `env`), one `(name, text)` each, and `BY_NAME`, the
// `(name, index)` pairs sorted by name; made by build.rs.
include!(concat!(env!("OUT_DIR"), "/jq_library.rs"));

/// A compiled jq filter.
pub struct Filter {
    filter: jaq_core::Filter<Data>,
    /// Whether the filter can read `$ENV` (else it is bound to null, unseen).
    env: bool,
}

impl Filter {
    /// Compiles `expr` with the jq standard library; `$ENV` holds the process environment.
    pub fn compile(expr: &str) -> Result<Filter, String> {
        let depth = nesting(expr);
        if depth > MAX_NESTING {
            return Err(format!(
                "the expression is nested too deeply ({depth} levels; at most {MAX_NESTING})"
            ));
        }
        if depth <= SHALLOW {
            compile(expr)
        } else {
            on_large_stack(|| compile(expr))?
        }
    }

    /// Runs the filter on each of `inputs` in turn, handing every output to `emit` as
    /// soon as it is produced, until `emit` breaks. `Err` is the first runtime error
    /// (the outputs before it have been handed over).
    pub fn run(
        &self,
        inputs: Vec<Value>,
        mut emit: impl FnMut(Value) -> ControlFlow<()>,
    ) -> Result<(), String> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .stack_size(STACK_SIZE)
                .spawn_scoped(scope, move || {
                    let floor = stack_address().saturating_sub(RECURSION_BUDGET);
                    STACK_FLOOR.with(|f| f.set(floor));
                    self.run_here(inputs, &tx);
                })
                .map_err(|e| format!("cannot start the jq thread: {e}"))?;
            let mut result = Ok(());
            for out in rx {
                match out {
                    Ok(v) => {
                        if emit(v).is_break() {
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            // Leaving the loop dropped the receiver: the worker's next send fails and it stops.
            worker
                .join()
                .map_err(|_| "the jq thread failed".to_owned())?;
            result
        })
    }

    /// The filter thread: sends each output, stops at the first error, at `halt`, or
    /// when nobody listens any more.
    fn run_here(&self, inputs: Vec<Value>, tx: &mpsc::SyncSender<Result<Value, String>>) {
        let env = if self.env { env() } else { Val::Null };
        let vars = Vars::new([env]);
        for input in inputs {
            let input = match Val::deserialize(input) {
                Ok(v) => v,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            let ctx = Ctx::<Data>::new(&self.filter.lut, vars.clone());
            for out in self.filter.id.run((ctx, input)) {
                let sent = match out {
                    Ok(v) => tx.send(Ok(to_json(&v))),
                    Err(exn) => match exn.get_err() {
                        // Like jq: string errors print raw, other values as JSON.
                        Ok(err) => {
                            let msg = match err.into_val() {
                                Val::TStr(msg) => String::from_utf8_lossy(&msg).into_owned(),
                                other => format!("{other} (not a string)"),
                            };
                            let _ = tx.send(Err(msg));
                            return;
                        }
                        Err(exn) => {
                            match exn.get_halt() {
                                Ok(0) => {}
                                Ok(code) => {
                                    let _ = tx.send(Err(format!("halted with exit code {code}")));
                                }
                                Err(_) => {
                                    let _ = tx.send(Err("unexpected control flow".into()));
                                }
                            }
                            return;
                        }
                    },
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    }
}

/// Runs `f` on a thread with a [`STACK_SIZE`] stack and returns what it returns.
fn on_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T, String> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .stack_size(STACK_SIZE)
            .spawn_scoped(scope, f)
            .map_err(|e| format!("cannot start the jq thread: {e}"))?
            .join()
            .map_err(|_| "the jq thread failed".to_owned())
    })
}

thread_local! {
    /// The lowest stack address a jq definition may start at (0: no limit).
    static STACK_FLOOR: Cell<usize> = const { Cell::new(0) };
}

/// The address of a local: where the stack is now (it grows down on every supported
/// platform).
fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

fn too_deep() -> bool {
    stack_address() < STACK_FLOOR.with(Cell::get)
}

fn too_deep_error<'a, T>() -> Result<T, Exn<'a, Val>> {
    Err(Exn::from(JqError::str(
        "recursion too deep (a jq definition calls itself without end?)",
    )))
}

/// [`GUARD`]: passes its input, path and update through unchanged, unless the stack is
/// past its budget. It is put in front of every definition's body (`guard | body`), a
/// position that keeps jaq's tail calls tail calls.
fn guard() -> Fun<Data> {
    let native = Native::new(|cv| {
        if too_deep() {
            box_once(too_deep_error())
        } else {
            box_once(Ok(cv.1))
        }
    })
    .with_paths(|cv| {
        if too_deep() {
            box_once(too_deep_error())
        } else {
            box_once(Ok(cv.1))
        }
    })
    .with_update(|cv, f| {
        if too_deep() {
            box_once(too_deep_error())
        } else {
            f(cv.1)
        }
    });
    (GUARD, v(0), native)
}

/// How deeply `expr` nests, counted generously so that it bounds the recursion of jaq's
/// lexer, parser, compiler and interpreter: every open bracket or string interpolation
/// is a level, and so is every operator or keyword before this point inside the
/// innermost open bracket (`a | b | c` is a tree three deep). Strings and comments are
/// skipped.
fn nesting(expr: &str) -> usize {
    const KEYWORDS: [&str; 9] = [
        "if", "try", "reduce", "foreach", "label", "def", "as", "and", "or",
    ];
    // One entry per open level: `Some(n)` code with n operators so far, `None` a string.
    let mut levels: Vec<Option<usize>> = vec![Some(0)];
    let mut depth = 0;
    let mut deepest = 0;
    let mut chars = expr.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let in_string = matches!(levels.last(), Some(None));
        match c {
            '\\' if in_string => {
                // An escape: `\(` opens an interpolation, anything else is skipped.
                let escaped = chars.next().map(|(_, c)| c);
                if escaped == Some('(') {
                    levels.push(Some(0));
                    depth += 1;
                }
            }
            '"' if in_string => {
                levels.pop();
            }
            _ if in_string => {}
            '"' => levels.push(None),
            '#' => {
                // A comment runs to the end of a line that does not end with an odd
                // number of backslashes.
                let mut backslashes = 0;
                for (_, c) in chars.by_ref() {
                    match c {
                        '\n' if backslashes % 2 == 0 => break,
                        '\\' => backslashes += 1,
                        '\r' => {}
                        _ => backslashes = 0,
                    }
                }
            }
            '(' | '[' | '{' => {
                levels.push(Some(0));
                depth += 1;
            }
            ')' | ']' | '}' if levels.len() > 1 => {
                if let Some(Some(ops)) = levels.pop() {
                    depth -= ops + 1;
                }
            }
            '|' | ',' | '+' | '-' | '*' | '/' | '%' | '=' | '<' | '>' | '?' => {
                if let Some(Some(ops)) = levels.last_mut() {
                    *ops += 1;
                    depth += 1;
                }
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, c)) = chars.peek() {
                    if !(c.is_ascii_alphanumeric() || c == '_') {
                        break;
                    }
                    end = j + c.len_utf8();
                    chars.next();
                }
                if KEYWORDS.contains(&&expr[i..end])
                    && let Some(Some(ops)) = levels.last_mut()
                {
                    *ops += 1;
                    depth += 1;
                }
            }
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    deepest
}

/// Parses, trims the standard library to what `expr` reaches, guards every definition
/// and compiles. Runs on the large stack.
fn compile(expr: &str) -> Result<Filter, String> {
    let Some(mut main) = load::parse(expr, |p| p.term()) else {
        return Err(syntax_error(expr));
    };
    // Declared before `reach`, which borrows from it.
    let library;
    let mut reach = Reach::default();
    reach.add(&mut main);
    // A filter without calls (`.user`) needs no natives either.
    let natives: Vec<Fun<Data>> = if reach.calls.is_empty() {
        Vec::new()
    } else {
        jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs())
            .chain(base32())
            // `env` is ours (see `jq_builtins.jq`).
            .filter(|(name, _, _)| *name != "env")
            .collect()
    };
    // Filters that call only natives (`.user`, `.a | length`) need no definitions at all.
    let is_native = |call: &(&str, usize)| {
        natives
            .iter()
            .any(|(name, args, _)| (*name, args.len()) == *call)
    };
    let mut defs = Vec::new();
    if !reach.calls.iter().all(is_native) {
        library = library_text(reach.calls.iter().map(|(name, _)| *name));
        defs = reach.definitions(load::parse(&library, |p| p.defs()).unwrap_or_default());
    }
    guard_defs(&mut main);
    defs.push(Def {
        name: MAIN,
        args: Vec::new(),
        body: main,
    });
    let funs = natives
        .into_iter()
        .filter(|(name, args, _)| reach.calls.contains(&(*name, args.len())))
        .chain([guard()]);
    let arena = Arena::default();
    let file = File {
        code: MAIN,
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
    let env = reach.vars.contains("$ENV");
    Ok(Filter { filter, env })
}

/// The text of the [`LIBRARY`] definitions that `names` reach, in library order: those
/// with one of the names, then those named by a word of their text, and so on. Words
/// are a superset of the calls (arity is not looked at), so nothing reachable is missed.
fn library_text<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut wanted: Vec<&str> = names.collect();
    let mut seen = HashSet::new();
    let mut kept = [false; LIBRARY.len()];
    while let Some(name) = wanted.pop() {
        if !seen.insert(name) {
            continue;
        }
        // `BY_NAME` is sorted by name: the definitions of `name` are one run.
        let first = BY_NAME.partition_point(|(n, _)| *n < name);
        for (_, i) in BY_NAME[first..].iter().take_while(|(n, _)| *n == name) {
            if !kept[*i] {
                kept[*i] = true;
                wanted.extend(words(LIBRARY[*i].1));
            }
        }
    }
    let texts = LIBRARY.iter().zip(kept).filter(|(_, kept)| *kept);
    texts
        .map(|((_, text), _)| *text)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The words of jq text that can name a definition: runs of letters, digits and `_`,
/// with a leading `@` kept (formats). Strings are not skipped, which only ever keeps a
/// definition too many.
fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '@'))
        .filter(|w| !w.is_empty())
}

/// jaq's own message for an expression that does not parse (its module loader reports
/// where and what it expected).
fn syntax_error(expr: &str) -> String {
    let arena = Arena::default();
    let file = File {
        code: expr,
        path: (),
    };
    match Loader::new([]).load(&arena, file) {
        Err(errs) => join(errs.into_iter().flat_map(|(_, e)| load_error(expr, e))),
        Ok(_) => "module directives are not supported".to_owned(),
    }
}

/// What a filter reaches: the filters it calls (with arity) and the variables it reads.
#[derive(Default)]
struct Reach<'s> {
    calls: HashSet<(&'s str, usize)>,
    vars: HashSet<&'s str>,
}

impl<'s> Reach<'s> {
    /// Adds the calls and variables of `term`, its local definitions included.
    fn add(&mut self, term: &mut Term<&'s str>) {
        each_term(term, &mut |t| match t {
            Term::Call(name, args) => {
                self.calls.insert((*name, args.len()));
            }
            Term::Str(Some(format), _) => {
                self.calls.insert((*format, 0));
            }
            Term::Var(name) => {
                self.vars.insert(*name);
            }
            _ => {}
        });
    }

    /// The definitions of `library` that the calls so far reach, directly or through
    /// other definitions, in their order (a definition sees only those before it), each
    /// guarded. Calls are matched by name and arity.
    fn definitions(&mut self, library: Vec<Def<&'s str>>) -> Vec<Def<&'s str>> {
        let mut kept = vec![false; library.len()];
        let mut library: Vec<_> = library.into_iter().map(Some).collect();
        let mut todo: Vec<_> = self.calls.iter().copied().collect();
        while let Some(call) = todo.pop() {
            for (i, slot) in library.iter_mut().enumerate() {
                let Some(def) = slot.as_mut().filter(|d| (d.name, d.args.len()) == call) else {
                    continue;
                };
                if kept[i] {
                    continue;
                }
                kept[i] = true;
                let before = self.calls.len();
                let mut new = Reach::default();
                new.add(&mut def.body);
                self.vars.extend(new.vars);
                for c in new.calls {
                    if self.calls.insert(c) {
                        todo.push(c);
                    }
                }
                debug_assert!(self.calls.len() >= before);
            }
        }
        library
            .into_iter()
            .zip(kept)
            .filter_map(|(def, kept)| def.filter(|_| kept))
            .map(|mut def| {
                guard_def(&mut def);
                def
            })
            .collect()
    }
}

/// Puts [`GUARD`] in front of the body of `def` and of every definition inside it.
fn guard_def(def: &mut Def<&str>) {
    guard_defs(&mut def.body);
    guard_body(def);
}

/// `guard | body`.
fn guard_body(def: &mut Def<&str>) {
    let body = std::mem::take(&mut def.body);
    def.body = Term::BinOp(
        Box::new(Term::Call(GUARD, Vec::new())),
        BinaryOp::Pipe(None),
        Box::new(body),
    );
}

/// Guards every definition inside `term` (see [`guard_def`]).
fn guard_defs(term: &mut Term<&str>) {
    each_term(term, &mut |t| {
        if let Term::Def(defs, _) = t {
            // The bodies are visited next, as children: guard this level only.
            defs.iter_mut().for_each(guard_body);
        }
    });
}

/// Calls `f` on `term` and then on every term inside it, definitions included.
fn each_term<'s>(term: &mut Term<&'s str>, f: &mut impl FnMut(&mut Term<&'s str>)) {
    f(term);
    match term {
        Term::Id | Term::Recurse | Term::Num(_) | Term::Break(_) | Term::Var(_) => {}
        Term::Str(_, parts) => {
            for part in parts {
                if let StrPart::Term(t) = part {
                    each_term(t, f);
                }
            }
        }
        Term::Arr(t) => {
            if let Some(t) = t {
                each_term(t, f);
            }
        }
        Term::Obj(entries) => {
            for (k, v) in entries {
                each_term(k, f);
                if let Some(v) = v {
                    each_term(v, f);
                }
            }
        }
        Term::Neg(t) | Term::Label(_, t) => each_term(t, f),
        Term::BinOp(l, op, r) => {
            each_term(l, f);
            if let BinaryOp::Pipe(Some(pattern)) = op {
                each_pattern_term(pattern, f);
            }
            each_term(r, f);
        }
        Term::Fold(_, xs, pattern, args) => {
            each_term(xs, f);
            each_pattern_term(pattern, f);
            for t in args {
                each_term(t, f);
            }
        }
        Term::TryCatch(t, catch) => {
            each_term(t, f);
            if let Some(c) = catch {
                each_term(c, f);
            }
        }
        Term::IfThenElse(branches, else_) => {
            for (cond, then) in branches {
                each_term(cond, f);
                each_term(then, f);
            }
            if let Some(e) = else_ {
                each_term(e, f);
            }
        }
        Term::Def(defs, t) => {
            for def in defs {
                each_term(&mut def.body, f);
            }
            each_term(t, f);
        }
        Term::Call(_, args) => {
            for t in args {
                each_term(t, f);
            }
        }
        Term::Path(t, path) => {
            each_term(t, f);
            for (part, _) in &mut path.0 {
                match part {
                    Part::Index(i) => each_term(i, f),
                    Part::Range(from, upto) => {
                        for t in [from, upto].into_iter().flatten() {
                            each_term(t, f);
                        }
                    }
                }
            }
        }
    }
}

/// The terms inside a destructuring pattern (`{(f): $x}`).
fn each_pattern_term<'s>(pattern: &mut Pattern<&'s str>, f: &mut impl FnMut(&mut Term<&'s str>)) {
    match pattern {
        Pattern::Var(_) => {}
        Pattern::Arr(items) => {
            for p in items {
                each_pattern_term(p, f);
            }
        }
        Pattern::Obj(entries) => {
            for (k, p) in entries {
                each_term(k, f);
                each_pattern_term(p, f);
            }
        }
    }
}

/// `@base32` and `@base32d` (RFC 4648, padded): jaq has no base32.
fn base32() -> [Fun<Data>; 2] {
    let encode = Native::new(|cv| bome(Ok(Val::from(base32_encode(&text_bytes(&cv.1))))));
    let decode = Native::new(|cv| {
        bome(match base32_decode(&text_bytes(&cv.1)) {
            Some(bytes) => Ok(Val::from(String::from_utf8_lossy(&bytes).into_owned())),
            None => Err(JqError::str(format_args!(
                "{} is not valid base32 data",
                cv.1
            ))),
        })
    });
    [("@base32", v(0), encode), ("@base32d", v(0), decode)]
}

/// A string's bytes; any other value as its JSON text (what jq's formats do).
fn text_bytes(v: &Val) -> Vec<u8> {
    match v {
        Val::TStr(b) | Val::BStr(b) => b.to_vec(),
        other => other.to_string().into_bytes(),
    }
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut block = [0u8; 5];
        block[..chunk.len()].copy_from_slice(chunk);
        let bits = block.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        // 5 bytes are 8 characters; 1..4 bytes fill 2, 4, 5 or 7 of them.
        let used = [0, 2, 4, 5, 7, 8][chunk.len()];
        for i in 0..8 {
            if i < used {
                out.push(char::from(BASE32[(bits >> (35 - 5 * i)) as usize & 31]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes base32 text, padded or not; `None` when a character is not base32.
fn base32_decode(text: &[u8]) -> Option<Vec<u8>> {
    let end = text.iter().rposition(|c| *c != b'=').map_or(0, |i| i + 1);
    let text = &text[..end];
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut bits, mut count) = (0u32, 0);
    for c in text {
        let value = BASE32.iter().position(|b| b == c)? as u32;
        bits = (bits << 5 | value) & 0xffff;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    Some(out)
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
    use super::{Filter, LIBRARY, MAX_NESTING, base32_decode, base32_encode, nesting};
    use jaq_core::load;
    use serde_json::{Value, json};
    use std::ops::ControlFlow;

    fn run(expr: &str, input: Value) -> Result<Vec<Value>, String> {
        let mut out = Vec::new();
        Filter::compile(expr)?.run(vec![input], |v| {
            out.push(v);
            ControlFlow::Continue(())
        })?;
        Ok(out)
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
    fn each_input_in_turn() {
        let mut out = Vec::new();
        let filter = Filter::compile(".a, 0").unwrap();
        let result = filter.run(vec![json!({"a": 1}), json!({"a": 2})], |v| {
            out.push(v);
            ControlFlow::Continue(())
        });
        assert_eq!(result, Ok(()));
        assert_eq!(out, [json!(1), json!(0), json!(2), json!(0)]);
    }

    /// An endless filter stops when the receiver breaks, after exactly what it took.
    #[test]
    fn the_receiver_stops_an_endless_filter() {
        let mut out = Vec::new();
        let filter = Filter::compile("recurse(. + 1)").unwrap();
        let result = filter.run(vec![json!(0)], |v| {
            out.push(v);
            if out.len() == 5 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(result, Ok(()));
        assert_eq!(out, [json!(0), json!(1), json!(2), json!(3), json!(4)]);
    }

    #[test]
    fn outputs_before_an_error_are_handed_over() {
        let mut out = Vec::new();
        let filter = Filter::compile(r#"1, 2, error("late"), 3"#).unwrap();
        let result = filter.run(vec![Value::Null], |v| {
            out.push(v);
            ControlFlow::Continue(())
        });
        assert_eq!(result, Err("late".into()));
        assert_eq!(out, [json!(1), json!(2)]);
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
        let err = Filter::compile(r#"include "x"; ."#)
            .err()
            .expect("should fail");
        assert_eq!(err, "x: module loading not supported");
    }

    #[test]
    fn undefined_filter_is_reported() {
        let err = Filter::compile("foo | bar(1)").err().expect("should fail");
        assert_eq!(err, "undefined filter `foo/0`; undefined filter `bar/1`");
        let err = Filter::compile("$nope").err().expect("should fail");
        assert_eq!(err, "undefined variable `$nope`");
        // The guard is not callable by name.
        assert!(Filter::compile("depth guard").is_err());
    }

    #[test]
    fn runtime_errors_are_reported() {
        let err = run(".a + 1", json!({"a": "x"})).unwrap_err();
        assert!(err.contains("cannot"), "{err}");
        assert_eq!(run(r#"error("boom")"#, Value::Null), Err("boom".into()));
        let err = run("error({a: 1})", Value::Null).unwrap_err();
        assert_eq!(err, r#"{"a":1} (not a string)"#);
    }

    #[test]
    fn halt_stops_without_error() {
        assert_eq!(run("1, halt, 2", Value::Null).unwrap(), vec![json!(1)]);
        assert_eq!(
            run("halt_error(3)", json!("")),
            Err("halted with exit code 3".into())
        );
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

    /// Every definition of jaq's libraries and ours, called with its arity, compiles
    /// with just the definitions it reaches.
    #[test]
    fn every_definition_compiles_alone() {
        for (name, text) in LIBRARY {
            let defs = load::parse(text, |p| p.defs()).expect("an indexed definition parses");
            let args = vec!["."; defs[0].args.len()].join("; ");
            let call = if args.is_empty() {
                (*name).to_owned()
            } else {
                format!("{name}({args})")
            };
            let expr = format!("def probe: {call}; 0");
            if let Err(e) = Filter::compile(&expr) {
                panic!("{expr}: {e}");
            }
        }
    }

    /// The index holds every definition of the crates' `defs()`, in order.
    #[test]
    fn the_library_index_is_complete() {
        let names: Vec<_> = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs())
            .map(|d| d.name)
            .collect();
        let indexed: Vec<_> = LIBRARY.iter().map(|(name, _)| *name).collect();
        assert_eq!(indexed[..names.len()], names[..]);
        assert!(indexed[names.len()..].contains(&"@csv"));
    }

    #[test]
    fn nesting_counts_brackets_interpolations_operators_and_keywords() {
        assert_eq!(nesting(".user"), 0);
        assert_eq!(nesting("[[1]]"), 2);
        assert_eq!(nesting("(1) | (2)"), 2);
        assert_eq!(nesting("[1, 2] | .[0]"), 2);
        assert_eq!(nesting(r#""\("\(1)")""#), 2);
        assert_eq!(nesting(r#""(((" | 1"#), 1);
        assert_eq!(nesting("# ((((\n1"), 0);
        assert_eq!(nesting("# ((((\\\n(((\n1"), 0);
        assert_eq!(nesting("if . then 1 else 2 end"), 1);
        assert_eq!(nesting("- - - 1"), 3);
        assert_eq!(nesting("map_values(1)"), 1);
        // Unbalanced text is left to the parser.
        assert_eq!(nesting(")))"), 0);
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused_before_parsing() {
        let deep = |n| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        assert!(Filter::compile(&deep(MAX_NESTING)).is_ok());
        let flat = format!("{} | flatten", deep(MAX_NESTING - 1));
        assert_eq!(one(&flat, Value::Null), json!([1]));
        let err = Filter::compile(&deep(5000)).err().expect("should fail");
        assert_eq!(
            err,
            "the expression is nested too deeply (5000 levels; at most 1000)"
        );
        let chain = vec!["."; 5000].join(" | ");
        assert!(Filter::compile(&chain).is_err());
    }

    #[test]
    fn recursion_without_end_is_too_deep() {
        let err = run("def f: [f]; f", Value::Null).unwrap_err();
        assert!(err.contains("too deep"), "{err}");
        let err = run("def f: 1 + f; f", Value::Null).unwrap_err();
        assert!(err.contains("too deep"), "{err}");
        // Tail calls stay tail calls: this loop runs in constant stack.
        let count = "def count: if . < 200000 then . + 1 | count else . end; 0 | count";
        assert_eq!(one(count, Value::Null), json!(200000));
        // Recursion that ends is not refused.
        let sum = "def sum: if . == 0 then 0 else . + (. - 1 | sum) end; 1000 | sum";
        assert_eq!(one(sum, Value::Null), json!(500500));
    }

    /// RFC 4648 section 10 test vectors.
    #[test]
    fn base32_round_trips() {
        let vectors = [
            ("", ""),
            ("f", "MY======"),
            ("fo", "MZXQ===="),
            ("foo", "MZXW6==="),
            ("foob", "MZXW6YQ="),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI======"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base32_encode(plain.as_bytes()), encoded);
            assert_eq!(
                base32_decode(encoded.as_bytes()).as_deref(),
                Some(plain.as_bytes())
            );
            let bare = encoded.trim_end_matches('=');
            assert_eq!(
                base32_decode(bare.as_bytes()).as_deref(),
                Some(plain.as_bytes())
            );
        }
        assert_eq!(base32_decode(b"MZ1W"), None);
        assert_eq!(base32_decode(b"mzxw"), None);
    }
}
