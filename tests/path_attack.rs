//! Path traversal against real files (being written).
