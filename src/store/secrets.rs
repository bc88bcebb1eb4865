//! Where the store keeps secrets it does not write to `auth.json`: the [`Secrets`] it is
//! given. The program gives it the system keyring ([`Keyring`](super::keyring::Keyring),
//! under its deadline); the store's unit tests give it a keyring in memory, which can be
//! made to fail, so the store's rules (undo, fallback, one current copy, legacy moves,
//! pending items) are tested without a Secret Service.

/// Why the keyring could not do what was asked. The text never holds a secret.
#[derive(Debug)]
pub struct Unavailable(pub String);

/// The keyring service of every profile, shared with Baseten's official CLI; the
/// account is the profile name.
pub const SERVICE: &str = "baseten-profile";

/// A keyring: secrets by service and user (the keyring's account).
pub trait Secrets {
    /// Reads the secret stored for `user` under `service`; `None` when there is no item.
    fn get(&self, service: &str, user: &str) -> Result<Option<String>, Unavailable>;

    /// Stores `secret` for `user` under `service`, replacing what was there.
    fn set(&self, service: &str, user: &str, secret: &str) -> Result<(), Unavailable>;

    /// Deletes every item for `user` under `service`; no item is not an error.
    fn delete(&self, service: &str, user: &str) -> Result<(), Unavailable>;

    /// Reaches the keyring, unlocking what a change of profile `user` may need, so
    /// that the calls of the change, made under the `auth.json` lock, wait for no person.
    fn reach(&self, user: &str) -> Result<(), Unavailable>;
}

#[cfg(test)]
pub use memory::{Memory, Op};

#[cfg(test)]
mod memory {
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeMap;

    use super::{SERVICE, Secrets, Unavailable};

    /// A keyring call, as [`Memory::fail_when`] sees it.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    pub enum Op {
        /// [`Secrets::get`].
        Get,
        /// [`Secrets::set`].
        Set,
        /// [`Secrets::delete`].
        Delete,
        /// [`Secrets::reach`].
        Reach,
    }

    /// The rule deciding which calls fail: given the call, its service and user.
    type Rule = Box<dyn Fn(Op, &str, &str) -> bool>;

    /// A keyring in memory for the store's unit tests: items by `(service, user)`, and
    /// failures on demand (the whole keyring, or the calls a rule picks).
    #[derive(Default)]
    pub struct Memory {
        items: RefCell<BTreeMap<(String, String), String>>,
        /// Every call fails, as with no keyring at all.
        unavailable: Cell<bool>,
        /// The calls that fail, besides.
        rule: RefCell<Option<Rule>>,
        /// Calls made, in order.
        calls: RefCell<Vec<(Op, String, String)>>,
    }

    impl Memory {
        /// A keyring holding `items` (`(service, user, secret)`).
        pub fn with(items: &[(&str, &str, &str)]) -> Memory {
            let memory = Memory::default();
            for (service, user, secret) in items {
                memory.put(service, user, secret);
            }
            memory
        }

        /// Adds an item behind the store's back.
        fn put(&self, service: &str, user: &str, secret: &str) {
            self.items
                .borrow_mut()
                .insert((service.to_owned(), user.to_owned()), secret.to_owned());
        }

        /// Makes every call fail (or work again).
        pub fn set_unavailable(&self, unavailable: bool) {
            self.unavailable.set(unavailable);
        }

        /// Makes the calls `rule` picks fail, from now on.
        pub fn fail_when(&self, rule: impl Fn(Op, &str, &str) -> bool + 'static) {
            *self.rule.borrow_mut() = Some(Box::new(rule));
        }

        /// Every item, as `(service, user, secret)`, sorted.
        pub fn items(&self) -> Vec<(String, String, String)> {
            self.items
                .borrow()
                .iter()
                .map(|((s, u), v)| (s.clone(), u.clone(), v.clone()))
                .collect()
        }

        /// The secret of `user` under `service`, looked at without a call.
        fn peek(&self, service: &str, user: &str) -> Option<String> {
            self.items
                .borrow()
                .get(&(service.to_owned(), user.to_owned()))
                .cloned()
        }

        /// How many calls of kind `op` were made.
        pub fn count(&self, op: Op) -> usize {
            self.calls.borrow().iter().filter(|c| c.0 == op).count()
        }

        /// Records a call; fails when the keyring is unavailable or the rule says so.
        fn call(&self, op: Op, service: &str, user: &str) -> Result<(), Unavailable> {
            self.calls
                .borrow_mut()
                .push((op, service.to_owned(), user.to_owned()));
            let failing = self.unavailable.get()
                || self
                    .rule
                    .borrow()
                    .as_ref()
                    .is_some_and(|rule| rule(op, service, user));
            match failing {
                true => Err(Unavailable(format!("{op:?} {service}/{user} failed"))),
                false => Ok(()),
            }
        }
    }

    impl Secrets for Memory {
        fn get(&self, service: &str, user: &str) -> Result<Option<String>, Unavailable> {
            self.call(Op::Get, service, user)?;
            Ok(self.peek(service, user))
        }

        fn set(&self, service: &str, user: &str, secret: &str) -> Result<(), Unavailable> {
            self.call(Op::Set, service, user)?;
            self.put(service, user, secret);
            Ok(())
        }

        fn delete(&self, service: &str, user: &str) -> Result<(), Unavailable> {
            self.call(Op::Delete, service, user)?;
            self.items
                .borrow_mut()
                .remove(&(service.to_owned(), user.to_owned()));
            Ok(())
        }

        fn reach(&self, user: &str) -> Result<(), Unavailable> {
            self.call(Op::Reach, SERVICE, user)
        }
    }
}
