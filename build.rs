//! The shipped vendor mappings (`mappings/`) are embedded in the binary
//! (`mapping::shipped`); rebuild when any of their files changes.

fn main() {
    println!("cargo:rerun-if-changed=mappings");
}
