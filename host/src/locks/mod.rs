//! Locks as the front desk manages them: which branch each belongs to, and regenerating
//! their PINs.

pub mod assignment;
pub mod regenerate;
