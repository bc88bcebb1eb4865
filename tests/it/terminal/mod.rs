//! The binary at a real terminal (SPEC §5, §6, §9): the prompts, and signals that leave
//! the terminal as it was found.

mod prompts;
mod signals;
