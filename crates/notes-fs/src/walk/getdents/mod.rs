//! The Linux walkers: each directory opened relative to its parent's handle and read with
//! `getdents64` into a reused buffer (`serial`: walkdir's order; `parallel`: several threads
//! and ignore files).

pub(crate) mod parallel;
pub(crate) mod serial;
