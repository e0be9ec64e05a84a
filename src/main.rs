use std::process::ExitCode;

// Parsing allocates many small nodes; mimalloc measurably beats the system allocator here
// (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match cargo_connect_migrate::cli::parse_from(std::env::args_os()) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    ExitCode::from(cargo_connect_migrate::app::run(cli))
}
