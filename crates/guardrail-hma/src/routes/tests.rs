//! Route tests (filled below).
