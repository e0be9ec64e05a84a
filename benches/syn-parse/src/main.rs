//! `syn-parse-bench [-j N] PATH...`: read and `syn::parse_file` every `.rs` file under the paths
//! (directories walked like cargo-connect-migrate walks them: `target/` and hidden directories
//! skipped), on N threads (default 2), and print what was parsed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(ft) = entry.file_type() else { continue };
            if ft.is_dir() {
                if !name.starts_with('.') && name != "target" {
                    stack.push(entry.path());
                }
            } else if ft.is_file() && name.ends_with(".rs") {
                out.push(entry.path());
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut jobs = 2;
    let mut paths = Vec::new();
    while let Some(a) = args.next() {
        if a == "-j" {
            jobs = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("-j takes a number");
        } else {
            paths.push(PathBuf::from(a));
        }
    }
    if paths.is_empty() {
        eprintln!("usage: syn-parse-bench [-j N] PATH...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for p in &paths {
        if p.is_dir() {
            walk(p, &mut files);
        } else {
            files.push(p.clone());
        }
    }
    files.sort();
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build_global()
        .expect("thread pool");
    let bytes = AtomicUsize::new(0);
    let items = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    files.par_iter().for_each(|f| {
        let Ok(text) = std::fs::read_to_string(f) else {
            failed.fetch_add(1, Ordering::Relaxed);
            return;
        };
        bytes.fetch_add(text.len(), Ordering::Relaxed);
        let body = text.strip_prefix('\u{feff}').unwrap_or(&text);
        match syn::parse_file(body) {
            Ok(file) => {
                items.fetch_add(file.items.len(), Ordering::Relaxed);
            }
            Err(_) => {
                failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    println!(
        "files {} bytes {} items {} failed {}",
        files.len(),
        bytes.into_inner(),
        items.into_inner(),
        failed.into_inner()
    );
}
