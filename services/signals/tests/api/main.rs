//! The signals service against real Postgres and NATS: receivers and their tokens, streams, and
//! identity's, security-info's, devices' and audit's events arriving as signed SETs by poll and by push.

mod caep;
mod delivery;
mod helpers;
mod receivers;
mod risc;
mod streams;
