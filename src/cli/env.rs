//! The environment as resolution reads it: a lookup handed in (the process's in the
//! program, a fixed list in unit tests), so no variable is read behind the caller's back.

/// Where environment variables come from.
pub struct Env<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl<'a> Env<'a> {
    /// Variables from `lookup`, which answers `None` for an unset one.
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Env<'a> {
        Env { lookup }
    }

    /// A variable's value; unset and empty count as absent.
    pub fn get(&self, name: &str) -> Option<String> {
        (self.lookup)(name).filter(|v| !v.is_empty())
    }
}

impl Env<'static> {
    /// The environment of this process; a value that is not UTF-8 counts as unset.
    pub fn process() -> Env<'static> {
        Env::new(&process_var)
    }
}

/// One variable of the process environment, when set and UTF-8.
fn process_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
