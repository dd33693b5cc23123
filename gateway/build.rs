//! The web UI in `../web` is embedded into the binary; any change there (a new file too) must
//! rebuild the gateway.

fn main() {
    println!("cargo:rerun-if-changed=../web");
    println!("cargo:rerun-if-changed=build.rs");
}
