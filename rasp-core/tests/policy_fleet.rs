//! Fleet state in Redis.
