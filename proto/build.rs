//! Compiles every `.proto` under `myaccount/` with protox (pure Rust, no system protoc) and
//! keeps the encoded descriptor set for gRPC reflection.

use std::path::PathBuf;

const PROTO_FILES: &[&str] = &[
    "myaccount/events/v1/signin.proto",
    "myaccount/events/v1/identity.proto",
    "myaccount/identity/v1/identity.proto",
    "myaccount/audit/v1/audit.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=myaccount");

    let file_descriptors = protox::compile(PROTO_FILES, ["."])?;
    let descriptor_path = out_dir.join("myaccount_descriptor.bin");
    std::fs::write(
        &descriptor_path,
        prost::Message::encode_to_vec(&file_descriptors),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(file_descriptors)?;
    Ok(())
}
