//! One file per venue: its rules, and data tables where rules are not clean.

pub(super) mod cmes;
pub(super) mod fx;
pub(super) mod xasx;
pub(super) mod xetr;
pub(super) mod xhkg;
pub(super) mod xhkg_data;
pub(super) mod xlon;
pub(super) mod xnys;
pub(super) mod xtks;
pub(super) mod xtse;
