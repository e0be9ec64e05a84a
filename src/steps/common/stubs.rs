//! Which proto package a module of tonic stubs holds, read from the include that fills it.
//!
//! tonic's service modules (`x_server`, `x_client`) are named after the service only, so their
//! paths alone cannot tell a service of the schema from a service of the same name generated
//! from something else: a service built by hand with `tonic_prost_build::manual` (its own
//! message types and codec), or one of another package with the same service name. The module
//! that holds the stubs says which: the file its `include!` / `include_proto!` reads. Only the
//! generated code of a package of the schema (what connectrpc-build compiles) has a connect
//! counterpart; steps 2, 5 and 6 leave any other stubs on tonic and list them.
//!
//! Before (tonic's json-codec example): `mod hello_world { include!(concat!(env!("OUT_DIR"),
//! "/json.helloworld.Greeter.rs")); }` with `impl hello_world::greeter_server::Greeter for S`
//! was taken for the proto's `helloworld.Greeter`. After: [`StubModule::Foreign`]
//! (`json.helloworld.Greeter.rs`), and the site is listed instead of converted.

use std::collections::BTreeSet;

use crate::buildrs::{proto_includes_in, IncludeKind};
use crate::engine::FileCtx;
use crate::schema::{Schema, Service};

/// What a module of tonic stubs holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StubModule {
    /// The generated code of these packages of the schema (one module may include several:
    /// containerd's `services::v1`).
    Packages(Vec<String>),
    /// Generated code that is no package of the schema: the file it includes (relative to
    /// `OUT_DIR`).
    Foreign(String),
    /// Cannot tell (a module of another file of another target, or of another crate): the
    /// caller decides by the names in the path, as before.
    Unknown,
}

/// What the crate-absolute module `module` holds, seen from `file`: the include of an inline
/// module of the file, else step 1's table of generated modules when it names one package for
/// that path (several binaries of one package may each have a `crate::pb` of their own).
pub fn stub_module(file: &FileCtx<'_>, schema: &Schema, module: &[String]) -> StubModule {
    if file.text.contains("include") {
        let base: Vec<String> = file
            .module_path
            .map(<[String]>::to_vec)
            .unwrap_or_else(|| vec!["crate".into()]);
        let hits: Vec<_> = proto_includes_in(file.file)
            .into_iter()
            .filter(|inc| {
                matches!(
                    inc.kind,
                    IncludeKind::IncludeProto | IncludeKind::IncludeOutDir
                ) && !inc.out_dir_file.ends_with("_connectrpc.rs")
                    && base.len() + inc.module_path.len() == module.len()
                    && module.starts_with(&base)
                    && module[base.len()..] == inc.module_path[..]
            })
            .collect();
        if !hits.is_empty() {
            let mut packages = Vec::new();
            for inc in hits {
                match inc.package.filter(|p| schema.package(p).is_some()) {
                    Some(p) => packages.push(p),
                    None if packages.is_empty() => return StubModule::Foreign(inc.out_dir_file),
                    None => {}
                }
            }
            return StubModule::Packages(packages);
        }
    }
    let pkgs: BTreeSet<&String> = file
        .crate_ctx
        .into_iter()
        .flat_map(|c| &c.modules)
        .filter(|(m, _)| m.as_slice() == module)
        .map(|(_, p)| p)
        .collect();
    match pkgs.into_iter().collect::<Vec<_>>().as_slice() {
        [one] => StubModule::Packages(vec![(*one).clone()]),
        _ => StubModule::Unknown,
    }
}

/// The service of a tonic server path (`[.., module, x_server, Trait|XServer]`, crate-absolute):
/// by the package its module holds when [`stub_module`] knows it, else by the path's names
/// ([`Schema::service_by_tonic_server_path`]). `Err(file)`: the path names a `x_server` module
/// of generated code that is not the schema's (`file` is what that code's module includes).
pub fn server_service<'s>(
    file: &FileCtx<'_>,
    schema: &'s Schema,
    path: &[String],
) -> Result<Option<&'s Service>, String> {
    service_in(
        file,
        schema,
        path,
        "_server",
        Schema::service_by_tonic_server_path,
        Schema::service_by_tonic_server_in,
    )
}

/// [`server_service`] for a tonic client path (`[.., module, x_client, XClient]`).
pub fn client_service<'s>(
    file: &FileCtx<'_>,
    schema: &'s Schema,
    path: &[String],
) -> Result<Option<&'s Service>, String> {
    service_in(
        file,
        schema,
        path,
        "_client",
        Schema::service_by_tonic_client_path,
        Schema::service_by_tonic_client_in,
    )
}

type ByPath = for<'s> fn(&'s Schema, &[&str]) -> Option<&'s Service>;
type InPackage = for<'s> fn(&'s Schema, &[&str], &str) -> Option<&'s Service>;

fn service_in<'s>(
    file: &FileCtx<'_>,
    schema: &'s Schema,
    path: &[String],
    suffix: &str,
    by_path: ByPath,
    in_package: InPackage,
) -> Result<Option<&'s Service>, String> {
    let segs: Vec<&str> = path.iter().map(String::as_str).collect();
    let [.., stub_mod, _] = segs.as_slice() else {
        return Ok(None);
    };
    if !stub_mod.ends_with(suffix) {
        return Ok(by_path(schema, &segs));
    }
    match stub_module(file, schema, &path[..path.len() - 2]) {
        StubModule::Packages(ps) => Ok(ps.iter().find_map(|p| in_package(schema, &segs, p))),
        StubModule::Foreign(f) => Err(f),
        StubModule::Unknown => Ok(by_path(schema, &segs)),
    }
}
