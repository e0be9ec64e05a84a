//! Option classification: what step 1 does with each builder option.

use super::*;

/// A serde derive or any serde attribute (`#[serde(..)]`, `#[serde_with::serde_as]`,
/// `#[serde_as(..)]`): buffa's own proto3-JSON impls replace them.
pub(super) fn is_serde_derive(attr: &str) -> bool {
    let a = attr.replace(' ', "");
    (a.contains("derive(") && (a.contains("Serialize") || a.contains("Deserialize")))
        || a.contains("serde")
}

/// An attribute deriving `Eq`, `Hash` or `Ord` (which needs `Eq`): on a buffa message these
/// need `preserve_unknown_fields = false`.
pub(super) fn derives_eq_or_hash(attr_arg: &str) -> bool {
    use syn::parse::Parser;
    let Ok(lit) = syn::parse_str::<syn::LitStr>(attr_arg) else {
        return false;
    };
    let Ok(attrs) = syn::Attribute::parse_outer.parse_str(&lit.value()) else {
        return false;
    };
    let mut found = false;
    for at in attrs.iter().filter(|at| at.path().is_ident("derive")) {
        let _ = at.parse_nested_meta(|m| {
            let last = m.path.segments.last().map(|s| s.ident.to_string());
            found |= matches!(last.as_deref(), Some("Eq" | "Hash" | "Ord"));
            Ok(())
        });
    }
    found
}

/// What step 1 does with a tonic/prost builder option: moved to buffa's config, kept on tonic's
/// builder, dropped, or reported (the `match` below is the reference).
pub fn classify_option(name: &str, args: &[OptionArg]) -> (OptionClass, Option<String>) {
    use OptionClass::*;
    let first = args.first().map(|a| a.source.as_str()).unwrap_or("");
    let second = args.get(1).map(|a| a.source.as_str()).unwrap_or("");
    match name {
        "build_client"
        | "build_server"
        | "build_transport"
        | "server_mod_attribute"
        | "server_attribute"
        | "client_mod_attribute"
        | "client_attribute"
        | "trait_attribute"
        | "use_arc_self"
        | "generate_default_stubs"
        | "proto_path"
        | "emit_package"
        | "disable_package_emission"
        | "include_file"
        | "out_dir" => (KeepOnTonic, None),
        "disable_comments" => (
            KeepOnTonic,
            Some("connectrpc-build has no equivalent: buffa messages keep their comments".into()),
        ),
        "file_descriptor_set_path" => (KeepOnTonicAndConnect("emit_descriptor_set".into()), None),
        "emit_rerun_if_changed" => (KeepOnTonicAndConnect("emit_rerun_directives".into()), None),
        "protoc_arg" => (
            KeepOnTonic,
            Some(
                "connectrpc-build has no protoc_arg: if the flag changes the schema, build the \
                 descriptor set yourself and pass it with `.descriptor_set(..)`"
                    .into(),
            ),
        ),
        "skip_protoc_run" => (
            KeepOnTonic,
            Some(
                "tonic reads a prebuilt descriptor set: give connectrpc-build the same set with \
                 `.descriptor_set(path)` and proto-relative `.files(..)`"
                    .into(),
            ),
        ),
        "extern_path" => extern_path_class(first, second),
        "compile_well_known_types" => (
            Replaced(
                "step 1 sets `compile_well_known_types(true)` when the schema uses WKTs".into(),
            ),
            None,
        ),
        "codec_path" => (
            Replaced("step 1 points tonic at the buffa codec".into()),
            Some(format!(
                "the custom codec `{first}` is replaced by the buffa codec; port its behaviour"
            )),
        ),
        "type_attribute" | "message_attribute" | "enum_attribute" | "field_attribute" => {
            if is_serde_derive(second) {
                (
                    Reported(
                        "buffa messages already derive proto3-JSON serde (`generate_json`); a \
                         second serde derive conflicts, so the attribute is dropped"
                            .into(),
                    ),
                    None,
                )
            } else {
                let field = match name {
                    "type_attribute" => "type_attributes",
                    "message_attribute" => "message_attributes",
                    "enum_attribute" => "enum_attributes",
                    _ => "field_attributes",
                };
                let note = derives_eq_or_hash(second).then(|| {
                    "buffa messages derive `Eq` / `Hash` only without their unknown-fields \
                     member: step 1 sets `preserve_unknown_fields = false` (prost kept no \
                     unknown fields either); a message with a message field still cannot \
                     derive `Hash` (buffa's `MessageField` is not `Hash`)"
                        .to_string()
                });
                (MovesToBuffa(field.into()), note)
            }
        }
        "bytes" => (MovesToBuffa("bytes_fields (BytesRepr::Bytes)".into()), None),
        "btree_map" => (MovesToBuffa("map_fields (MapRepr::BTreeMap)".into()), None),
        "boxed" => (
            MovesToBuffa("pointer_fields (PointerRepr::Box)".into()),
            None,
        ),
        "enable_type_names" | "type_name_domain" => (
            Reported(
                "buffa messages always carry `MessageName` consts (`FULL_NAME`, `TYPE_URL`)".into(),
            ),
            None,
        ),
        "retain_enum_prefix" => (
            Reported(
                "buffa enum variants are the proto names verbatim, with prefix-stripped alias \
                 consts"
                    .into(),
            ),
            None,
        ),
        "default_package_filename"
        | "format"
        | "service_generator"
        | "protoc_executable"
        | "include_file_descriptor_set" => (
            Reported(format!(
                "prost_build::Config::{name} has no place after step 1"
            )),
            None,
        ),
        "skip_debug" => (
            Reported("buffa always writes a manual `Debug`; `skip_debug` has no equivalent".into()),
            None,
        ),
        "with_extended_rust_types" => (
            Reported("prost's Rust-type mapping of WKTs does not apply to buffa types".into()),
            None,
        ),
        _ => (
            KeepOnTonic,
            Some(format!(
                "`{name}` is not a known tonic builder option; kept unchanged"
            )),
        ),
    }
}

/// `extern_path(proto, rust)`: the well-known types are step 1's to map; a module of this crate
/// needs nothing; another crate's types must be buffa's first.
fn extern_path_class(first: &str, second: &str) -> (OptionClass, Option<String>) {
    use OptionClass::*;
    let proto = first_string_literal(first).unwrap_or_default();
    if proto == ".google.protobuf" || proto.starts_with(".google.protobuf.") {
        (
            Reported(format!(
                "the well-known types are mapped to `{BUFFA_TYPES_WKT_PATH}` by step 1; \
                 the mapping `{first}` → `{second}` is dropped"
            )),
            None,
        )
    } else if ["crate::", "self::", "super::"]
        .iter()
        .any(|p| second.trim_matches('"').starts_with(p))
    {
        // A module of this crate (chirpstack_api's `.extern_path(".common",
        // "crate::common")` between its own packages): connectrpc-build compiles the
        // packages together, and the module re-exports buffa's types after step 1.
        (KeepOnTonic, None)
    } else {
        (
            KeepOnTonic,
            Some(format!(
                "`{first}` comes from another crate (`{second}`): that crate must be \
                 migrated first so its messages are buffa types, and buffa needs the \
                 same mapping (`CodeGenConfig::extern_paths`)"
            )),
        )
    }
}
