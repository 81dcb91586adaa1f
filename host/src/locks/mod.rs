//! Locks as the front desk manages them: which branch each belongs to
//! ([`assignment`]), and regenerating their PINs ([`regenerate`]). The HTTP routes are in
//! `http/locks_admin.rs`.

pub mod assignment;
pub mod regenerate;
