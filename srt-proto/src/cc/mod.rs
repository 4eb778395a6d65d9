//! Congestion control: live pacing (LiveCC) and, later, file congestion control.

pub mod file;
pub mod live;
