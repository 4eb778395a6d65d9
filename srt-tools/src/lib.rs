//! Command-line programs built on the SRT stack (not yet implemented; see the issue tracker).
