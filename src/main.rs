//! The `zorgpoort` binary.

fn main() -> std::process::ExitCode {
    zorgpoort::cli::main()
}
