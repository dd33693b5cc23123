//! The signals service against real Postgres and NATS: receivers and their tokens, streams, and
//! identity's and security-info's events arriving as signed SETs by poll and by push.

mod delivery;
mod helpers;
mod receivers;
mod risc;
mod streams;
