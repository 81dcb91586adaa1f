//! What each route needs: one type per permission, naming the roles that hold it. A
//! handler asks for one with its [`super::Authorized`] extractor.

use super::Role;

/// A permission: the roles that hold it, and what it allows, for the 403's text.
pub trait Permission: Send + Sync + 'static {
    /// Roles holding the permission.
    const ROLES: &'static [Role];
    /// What it allows, completing "the `desk` role may not …".
    const ACTION: &'static str;
}

macro_rules! permissions {
    ($($(#[$doc:meta])* $name:ident = [$($role:ident),+], $action:literal;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl Permission for $name {
            const ROLES: &'static [Role] = &[$(Role::$role),+];
            const ACTION: &'static str = $action;
        }
    )+};
}

permissions! {
    /// Read reservations: their state, events, plan, codes and messages.
    ReadReservations = [Admin, Desk, Platform], "read reservations";
    /// Read locks, their status, activity and codes, alerts and dead letters.
    ReadFrontDesk = [Admin, Desk], "read the front desk's views";
    /// Act on locks and guests' access: sync, regenerate PINs, remote unlock, resend a
    /// PIN, acknowledge an alert.
    OperateFrontDesk = [Admin, Desk], "operate locks and guests' access";
    /// List and upload plugins.
    ManagePlugins = [Admin, Partner], "manage plugins";
    /// Everything else: rules, sources, branches, accounts, staff codes, keys, users,
    /// dead-letter retries, the audit log.
    Administer = [Admin], "administer the workspace";
}
