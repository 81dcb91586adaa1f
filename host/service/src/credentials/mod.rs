//! Lock-cloud credentials at rest: sealed with [`cipher`] (an AEAD keyed from the
//! environment) per workspace and account, and opened to connect the property's accounts
//! ([`accounts`]). Their typed, redacting form is
//! [`latchkey_providers::credentials::Credentials`].

pub mod accounts;
pub mod cipher;
