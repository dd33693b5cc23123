//! Compiles every `.proto` under `myaccount/` with protox (pure Rust, no system protoc) and
//! keeps the encoded descriptor set for gRPC reflection. New files are picked up by themselves.

use std::path::{Path, PathBuf};

fn proto_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            proto_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    println!("cargo:rerun-if-changed=myaccount");

    let mut files = Vec::new();
    proto_files(Path::new("myaccount"), &mut files)?;
    files.sort();
    let file_descriptors = protox::compile(&files, ["."])?;
    std::fs::write(
        out_dir.join("myaccount_descriptor.bin"),
        prost::Message::encode_to_vec(&file_descriptors),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(file_descriptors)?;
    Ok(())
}
