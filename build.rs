//! The shipped vendor mappings (`mappings/`) are embedded in the binary
//! (`mapping::shipped`), and so are the migrations (`sqlx::migrate!`);
//! rebuild when any of their files changes, a new one too.

fn main() {
    println!("cargo:rerun-if-changed=mappings");
    println!("cargo:rerun-if-changed=migrations");
}
