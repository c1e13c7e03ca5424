//! Header injection against a real loopback HTTP server.
