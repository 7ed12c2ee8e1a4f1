#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod collect;
mod diff;
mod error;
mod file;
mod flame;
mod marshal;
mod pstats;
mod report;
mod stats;

pub use collect::{ProfileGuard, ProfileLayer, Profiler, profile, profile_to};
pub use diff::{Diff, DiffRow, Match, diff, diff_with};
pub use error::{Error, Result};
pub use file::{FORMAT_VERSION, MAGIC, MAX_FILE_BYTES};
pub use flame::{Folded, MAX_DEPTH, MAX_FOLDED_BYTES, MAX_STACKS};
pub use report::{MAX_NAME_WIDTH, Report, ReportOptions, Restriction, SortKey};
pub use stats::{Calls, Func, FuncStats, MAX_STACK_NODES, StackNode, Stats};
