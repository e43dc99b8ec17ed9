//! Trace reader tests.
