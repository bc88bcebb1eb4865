//! The shell completion scripts `baseten completion SHELL` prints, generated from the
//! table in [`super::defs`], one file per shell. Values of flags that name stored
//! accounts are completed by calling the program's hidden `__accounts` word.

mod bash;
mod fish;
mod zsh;

use super::low::Shell;

/// The completion script for `shell`.
pub fn script(shell: Shell) -> String {
    match shell {
        Shell::Bash => bash::script(),
        Shell::Zsh => zsh::script(),
        Shell::Fish => fish::script(),
    }
}
