//! Every fixture tree (`fixtures/<name>/step-N/`) builds and passes its own
//! tests, and the server of every step answers the scripted client of
//! `step-0` (the unmodified tonic client).
//!
//! These tests build real tonic workspaces: the first run compiles the tonic
//! dependency graph once into `target/fixtures` (shared by all fixtures and
//! steps); later runs only rebuild the fixture crates.

mod support;

use std::path::{Path, PathBuf};

use support::{
    bin_path, build_and_test, build_bins, fixture_dir, fixture_steps, spawn_server, try_run_client,
};

/// The server and client binaries of a scenario.
struct Binaries {
    server: &'static str,
    client: &'static str,
}

fn steps_of(name: &str) -> Vec<(u32, PathBuf)> {
    let steps = fixture_steps(name);
    assert!(
        steps.first().is_some_and(|(n, _)| *n == 0),
        "{} has no step-0 tree",
        fixture_dir(name).display()
    );
    steps
}

/// Starts `server` and runs the step-0 `client` against it.
fn client_against_server(client: &Path, server: &Path, label: &str) {
    let server_process = spawn_server(server, &[]);
    let url = server_process.url();
    let out = try_run_client(client, &url);
    assert!(
        out.success(),
        "{label}: step-0 client against {} at {url} failed\n{}\n--- server stderr ---\n{}",
        server.display(),
        out.describe(),
        server_process.stderr()
    );
    println!("{label}: step-0 client against {url}:\n{}", out.stdout);
}

/// Builds and tests every step of fixture `name`; with `binaries`, also runs
/// the step-0 client against each step's server.
fn check_fixture(name: &str, binaries: Option<Binaries>) {
    let steps = steps_of(name);
    for (n, tree) in &steps {
        build_and_test(tree);
        println!("{name}/step-{n}: build and tests ok");
    }

    let Some(binaries) = binaries else {
        return;
    };
    let client = bin_path(&build_bins(&steps[0].1), binaries.client);
    assert!(
        client.is_file(),
        "{name}/step-0 has no client binary {}",
        binaries.client
    );
    for (n, tree) in &steps {
        let server = bin_path(&build_bins(tree), binaries.server);
        assert!(
            server.is_file(),
            "{name}/step-{n} has no server binary {}",
            binaries.server
        );
        client_against_server(&client, &server, &format!("{name}/step-{n}"));
    }
}

#[test]
fn greeter() {
    check_fixture(
        "greeter",
        Some(Binaries {
            server: "greeter-server",
            client: "greeter-client",
        }),
    );
}

#[test]
fn routes() {
    check_fixture(
        "routes",
        Some(Binaries {
            server: "routes-server",
            client: "routes-client",
        }),
    );
}

#[test]
fn platform() {
    check_fixture(
        "platform",
        Some(Binaries {
            server: "platform-server",
            client: "platform-client",
        }),
    );
}

/// No tonic at all: it only has to build and pass its tests (the golden
/// tests check that every step leaves it byte-identical).
#[test]
fn plain() {
    check_fixture("plain", None);
}
