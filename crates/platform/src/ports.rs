//! Ports for servers a process starts itself and must name before they bind: the test
//! harness, and `myaccount bench`'s own system of every service and the gateway.

use std::net::TcpListener;
use std::sync::atomic::{AtomicU32, Ordering};

/// Where ports are taken from: below Linux's ephemeral range (32768-60999), so a port handed
/// out here never comes back from someone else's bind to port 0 (a port freed from the
/// ephemeral range can: seen as a service that failed to start with "address in use").
const FIRST: u32 = 20_000;
const SPAN: u32 = 12_000;

/// A loopback port that is free now and that this process has not handed out before.
///
/// Ports come from a counter shared by the whole process, each checked free at the time.
/// Processes start at different places in the span, in case two run side by side.
pub fn unused_port() -> std::io::Result<u16> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    for _ in 0..SPAN {
        let port = FIRST + (start + NEXT.fetch_add(1, Ordering::Relaxed)) % SPAN;
        let Ok(port) = u16::try_from(port) else { continue };
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free loopback port between {FIRST} and {}", FIRST + SPAN),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_handed_out_are_distinct_and_below_the_ephemeral_range() {
        let ports: Vec<u16> = (0..50).map(|_| unused_port().expect("a free port")).collect();
        let mut distinct = ports.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), ports.len(), "a port was handed out twice: {ports:?}");
        for port in ports {
            assert!(u32::from(port) >= FIRST && u32::from(port) < FIRST + SPAN);
            assert!(port < 32768, "{port} is in the ephemeral range");
        }
    }
}
