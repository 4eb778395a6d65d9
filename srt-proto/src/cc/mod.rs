//! Congestion control: live pacing (LiveCC) and, later, file congestion control.

pub(crate) mod file;
pub(crate) mod live;
