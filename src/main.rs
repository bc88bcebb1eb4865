//! `baseten`: log in to the Baseten inference platform and manage credentials.
//! Data flows one way: parse arguments → resolve them against the environment → run
//! the command → render the result or the error → exit code.

use baseten::cli::args::{Args, Command};
use baseten::cli::env::Env;
use baseten::cli::parse::{self, Action, Special, Topic};
use baseten::cli::{complete, doc, resolve};
use baseten::error::{Error, Result};
use baseten::output::{self, render, render_list};
use baseten::{commands, core_dumps, terminal, ui};

fn main() {
    core_dumps::disable();
    let code = match parse::parse(std::env::args_os().skip(1)) {
        Ok(Action::Special(mode)) => match output::write_stdout(&special(mode)) {
            Ok(()) => 0,
            Err(e) => report(&e),
        },
        Ok(Action::ListAccounts) => {
            // For completion scripts: names or nothing, never an error message.
            let names = commands::account_names().unwrap_or_default();
            let _ = output::write_stdout(&names);
            0
        }
        Ok(Action::Run(def, low)) => match resolve::resolve(def, *low, &Env::process()) {
            Ok(args) => match run(args) {
                Ok(()) => 0,
                Err(e) => report(&e.with_usage(|| def.usage())),
            },
            Err(e) => report(&e),
        },
        Err(e) => report(&e),
    };
    std::process::exit(code);
}

/// The text of a special mode, generated from the command table.
fn special(mode: Special) -> String {
    match mode {
        Special::Help(Topic::Top) => doc::help::top(),
        Special::Help(Topic::Auth) => doc::help::auth(),
        Special::Help(Topic::Command(def)) => doc::help::command(def),
        Special::Version => format!("baseten {}\n", env!("CARGO_PKG_VERSION")),
        Special::Man => doc::man::page(),
        Special::Completion(shell) => complete::script(shell),
    }
}

/// Runs one command and renders its result.
fn run(args: Args) -> Result<()> {
    ui::set_verbose(args.verbose);
    terminal::exit_on_interrupt();
    let remote = &args.remote;
    let out = &args.output;
    match args.command {
        Command::Login(login) => render(&commands::login::run(remote, login)?, out),
        Command::Logout(selection) => render(&commands::logout::run(remote, selection)?, out),
        Command::LogoutAll => render_list(&commands::logout::run_all(remote)?, out),
        Command::Switch { user } => render(&commands::switch::run(remote, user)?, out),
        Command::Status(selection) => render(&commands::status::run(remote, selection)?, out),
        Command::StatusAll(env) => render_list(&commands::status::run_all(remote, env)?, out),
        Command::Token { selection, header } => {
            render(&commands::token::run(remote, selection, header)?, out)
        }
        Command::Whoami(selection) => render(&commands::whoami::run(remote, selection)?, out),
        Command::Version => render(&commands::version::run(), out),
    }
}

/// Prints the error (and the usage line for usage errors) and returns the exit code.
fn report(e: &Error) -> i32 {
    ui::error(&e.to_string());
    if let Some(usage) = e.usage_line() {
        ui::line(usage);
    }
    e.exit_code()
}
