//! The proto schema of a crate, as the step rules need it.
//!
//! [`Schema::load`] compiles the crate's `.proto` files with `protox` (pure Rust, no `protoc`)
//! and flattens the descriptor pool into plain data: packages, services with their methods and
//! streaming kinds, messages with their fields (kind, label, oneof membership) and oneofs, and
//! enums with their values. Every message, enum, oneof, field and enum value carries two Rust
//! spellings: the one prost (tonic's generator) produces and the one buffa (connectrpc's
//! generator) produces, computed with each generator's own naming rules (see [`naming`]). The
//! rewriter looks items up by the prost spelling it sees in user code and writes the buffa one.
//!
//! Where the two spellings differ for a type that tonic's stubs name (RPC inputs and outputs),
//! a prefix `extern_path` for the package cannot reach the buffa type; [`Schema::name_differences`]
//! lists those types so `build.rs` can carry an exact `extern_path` for each.
//!
//! The naming rules were checked against the generators themselves: for every message, enum,
//! field, oneof, variant and alias of `tests/schema-data`, the prost and buffa spellings computed here
//! exist in the output of prost-build 0.14 and buffa-codegen 0.9 (262 names).
//!
//! Rust paths in this module are *relative to the package module*: `["outer", "Inner"]` for
//! `.pkg.Outer.Inner`. The package module itself is [`Package::prost_module`] /
//! [`Package::buffa_module`].

use std::collections::BTreeSet;
use std::path::PathBuf;

use protox::prost_reflect::{
    Cardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor, Syntax,
};
use serde::Serialize;

use naming::NameKind;

/// Errors from [`Schema::load`].
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// No `.proto` file was given.
    #[error("no .proto files given")]
    NoFiles,
    /// protox could not compile the files (parse error, missing import, file not under an
    /// include directory, ...).
    #[error("cannot compile {files}: {source}")]
    Compile {
        files: String,
        #[source]
        source: Box<protox::Error>,
    },
}

/// The package holding the well-known types.
pub const WKT_PACKAGE: &str = "google.protobuf";

/// The `google/protobuf/*.proto` files whose types `buffa-types` provides under
/// `::buffa_types::google::protobuf` (`descriptor.proto` and `compiler/plugin.proto` are not
/// among them: buffa maps those to `buffa-descriptor`).
pub const BUFFA_TYPES_FILES: &[&str] = &[
    "google/protobuf/any.proto",
    "google/protobuf/api.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/source_context.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/type.proto",
    "google/protobuf/wrappers.proto",
];

/// The Rust path of the well-known types in `buffa-types`.
pub const BUFFA_TYPES_WKT_PATH: &str = "::buffa_types::google::protobuf";

/// Whether `full_name` (with or without a leading dot) is in the `google.protobuf` package.
pub fn is_wkt(full_name: &str) -> bool {
    let n = full_name.strip_prefix('.').unwrap_or(full_name);
    n.strip_prefix(WKT_PACKAGE)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// One `.proto` file of the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtoFile {
    /// The proto-relative name (`greet/v1/greet.proto`).
    pub name: String,
    pub package: String,
    /// `true` when the file was only reached through an `import`.
    pub is_import: bool,
    pub syntax: ProtoSyntax,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProtoSyntax {
    Proto2,
    Proto3,
}

/// A proto package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Package {
    /// Dotted name, `""` for files without a `package` statement.
    pub name: String,
    /// Module segments prost generates for it (`greet.v1` → `["greet", "v1"]`).
    pub prost_module: Vec<String>,
    /// Module segments buffa generates for it.
    pub buffa_module: Vec<String>,
    /// `true` when every file of the package was only reached through an `import`.
    pub only_imported: bool,
}

impl Package {
    /// The file prost-build (so tonic) writes for this package: its module segments joined
    /// with dots, keyword escapes included (`acme.r#type.v2.rs`, verified), `_.rs` without a
    /// package. `tonic::include_proto!("acme.type.v2")` therefore cannot include such a file.
    pub fn tonic_file(&self) -> String {
        if self.prost_module.is_empty() {
            "_.rs".to_string()
        } else {
            format!("{}.rs", self.prost_module.join("."))
        }
    }
}

/// How a method streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum StreamingKind {
    Unary,
    ServerStream,
    ClientStream,
    Bidi,
}

impl StreamingKind {
    pub fn from_flags(client_streaming: bool, server_streaming: bool) -> Self {
        match (client_streaming, server_streaming) {
            (false, false) => StreamingKind::Unary,
            (false, true) => StreamingKind::ServerStream,
            (true, false) => StreamingKind::ClientStream,
            (true, true) => StreamingKind::Bidi,
        }
    }
    pub fn client_streaming(self) -> bool {
        matches!(self, StreamingKind::ClientStream | StreamingKind::Bidi)
    }
    pub fn server_streaming(self) -> bool {
        matches!(self, StreamingKind::ServerStream | StreamingKind::Bidi)
    }
}

/// A service and the names tonic and connectrpc generate for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    /// Proto name (`Greeter`).
    pub name: String,
    /// `greet.v1.Greeter`.
    pub full_name: String,
    pub package: String,
    /// tonic's server trait name (prost UpperCamel of the proto name): `Greeter`.
    pub tonic_trait: String,
    /// tonic's server module: `greeter_server`.
    pub tonic_server_mod: String,
    /// tonic's server wrapper: `GreeterServer`.
    pub tonic_server: String,
    /// tonic's client module: `greeter_client`.
    pub tonic_client_mod: String,
    /// tonic's client type: `GreeterClient`.
    pub tonic_client: String,
    /// connectrpc's server trait (in the package module): heck UpperCamel of the proto name,
    /// `Self` → `Self_`: `Greeter`, `HTTPService` → `HttpService`.
    pub connect_trait: String,
    /// connectrpc's client: `GreeterClient`.
    pub connect_client: String,
    /// connectrpc's server wrapper: `GreeterServer`.
    pub connect_server: String,
    /// connectrpc's registration extension trait: `GreeterExt`.
    pub connect_ext: String,
    /// connectrpc's service-name const: `GREETER_SERVICE_NAME`.
    pub connect_service_name_const: String,
    pub methods: Vec<Method>,
}

/// An RPC method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Method {
    /// Proto name (`SayHello`).
    pub name: String,
    /// Rust method name (both generators): `say_hello`.
    pub rust_name: String,
    /// Full name of the input message, without leading dot.
    pub input: String,
    /// Full name of the output message, without leading dot.
    pub output: String,
    pub kind: StreamingKind,
    /// tonic's associated stream type on the server trait for server- and bidi-streaming
    /// methods (`CountStream`: the proto method name + `Stream`).
    pub tonic_stream_type: Option<String>,
}

/// A scalar field type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ScalarType {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
}

impl ScalarType {
    /// The Rust type both generators use by default.
    pub fn rust_type(self) -> &'static str {
        match self {
            ScalarType::Double => "f64",
            ScalarType::Float => "f32",
            ScalarType::Int32 | ScalarType::Sint32 | ScalarType::Sfixed32 => "i32",
            ScalarType::Int64 | ScalarType::Sint64 | ScalarType::Sfixed64 => "i64",
            ScalarType::Uint32 | ScalarType::Fixed32 => "u32",
            ScalarType::Uint64 | ScalarType::Fixed64 => "u64",
            ScalarType::Bool => "bool",
            ScalarType::String => "String",
            ScalarType::Bytes => "Vec<u8>",
        }
    }
}

/// What a field holds (one element for repeated fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FieldKind {
    Scalar(ScalarType),
    /// Full name of the message, without leading dot.
    Message(String),
    /// Full name of the enum, without leading dot.
    Enum(String),
    /// `map<K, V>`; the key is always a scalar.
    Map {
        key: ScalarType,
        value: Box<FieldKind>,
    },
}

impl FieldKind {
    /// The message or enum this kind refers to (the map value's for maps).
    pub fn type_name(&self) -> Option<&str> {
        match self {
            FieldKind::Message(n) | FieldKind::Enum(n) => Some(n),
            FieldKind::Map { value, .. } => value.type_name(),
            FieldKind::Scalar(_) => None,
        }
    }
}

/// Field cardinality and presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Label {
    /// proto3 field without `optional`: scalars have no presence, messages do (`Option<M>`).
    Implicit,
    /// proto3 `optional` or proto2 `optional`: `Option<T>` for scalars and enums.
    Optional,
    /// proto2 `required`.
    Required,
    /// `repeated` (not a map).
    Repeated,
    /// `map<K, V>`.
    Map,
}

/// A message field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// Proto name (`display_name`).
    pub name: String,
    pub number: u32,
    /// prost's field identifier (`display_name`, `r#type`, `self_`).
    pub prost_name: String,
    /// buffa's field identifier (proto name verbatim, keyword-escaped).
    pub buffa_name: String,
    pub kind: FieldKind,
    pub label: Label,
    /// `true` for a proto3 `optional` field (its synthetic oneof is not listed in `oneofs`).
    pub proto3_optional: bool,
    /// The (real) oneof this field belongs to, by proto name.
    pub oneof: Option<String>,
}

impl Field {
    /// `true` for a singular message field outside a oneof (prost `Option<M>`, buffa
    /// `MessageField<M>`).
    pub fn is_message_field(&self) -> bool {
        matches!(self.kind, FieldKind::Message(_))
            && matches!(
                self.label,
                Label::Implicit | Label::Optional | Label::Required
            )
            && self.oneof.is_none()
    }
    /// `true` when prost represents the field as a raw `i32` (open enum, not in a oneof map value
    /// position); buffa as `EnumValue<E>`.
    pub fn is_enum(&self) -> bool {
        matches!(self.kind, FieldKind::Enum(_))
    }
}

/// A variant of a oneof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneofVariant {
    /// The member field's proto name.
    pub field: String,
    /// prost's variant (UpperCamel of the field name).
    pub prost_variant: String,
    /// buffa's variant (PascalCase split on `_` only).
    pub buffa_variant: String,
    pub kind: FieldKind,
}

impl Oneof {
    /// The variant whose prost name is `variant` (also accepts buffa's).
    pub fn variant_by_rust_name(&self, variant: &str) -> Option<&OneofVariant> {
        let bare = unraw(variant);
        self.variants
            .iter()
            .find(|v| unraw(&v.prost_variant) == bare)
            .or_else(|| {
                self.variants
                    .iter()
                    .find(|v| unraw(&v.buffa_variant) == bare)
            })
    }
}

/// A (real, non-synthetic) oneof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Oneof {
    pub name: String,
    /// prost's field on the message (`kind`).
    pub prost_field: String,
    /// buffa's field on the message.
    pub buffa_field: String,
    /// prost's enum path relative to the package module (`["hello_request", "Kind"]`).
    pub prost_enum_path: Vec<String>,
    /// buffa's re-exported enum path relative to the package module.
    pub buffa_enum_path: Vec<String>,
    pub variants: Vec<OneofVariant>,
}

/// A message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    /// `greet.v1.Outer.Inner`.
    pub full_name: String,
    /// `Inner`.
    pub name: String,
    pub package: String,
    /// Full name of the enclosing message.
    pub parent: Option<String>,
    /// prost path relative to the package module: `["outer", "Inner"]`.
    pub prost_path: Vec<String>,
    /// buffa path relative to the package module.
    pub buffa_path: Vec<String>,
    pub fields: Vec<Field>,
    pub oneofs: Vec<Oneof>,
    /// `true` for the synthetic entry message of a `map<>` field (no Rust type exists).
    pub is_map_entry: bool,
    /// The path tonic-prost-build would write for this type under a package `extern_path`
    /// (relative to the package's Rust root): intermediate segments snake-cased, the last
    /// UpperCamel-cased. When it differs from `buffa_path` an exact `extern_path` is needed.
    pub prost_extern_path: Vec<String>,
}

impl Message {
    /// The field whose Rust name in user (prost) code is `rust_name` (`type` and `r#type` both
    /// match a field named `type`); also accepts buffa's spelling.
    pub fn field_by_rust_name(&self, rust_name: &str) -> Option<&Field> {
        let bare = rust_name.strip_prefix("r#").unwrap_or(rust_name);
        self.fields
            .iter()
            .find(|f| unraw(&f.prost_name) == bare)
            .or_else(|| self.fields.iter().find(|f| unraw(&f.buffa_name) == bare))
    }
    /// The field with the given proto name.
    pub fn field(&self, proto_name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == proto_name)
    }
    /// The oneof whose prost field name is `rust_name`.
    pub fn oneof_by_rust_name(&self, rust_name: &str) -> Option<&Oneof> {
        let bare = unraw(rust_name);
        self.oneofs.iter().find(|o| unraw(&o.prost_field) == bare)
    }
}

fn unraw(s: &str) -> &str {
    s.strip_prefix("r#").unwrap_or(s)
}

/// An enum value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumValue {
    /// Proto name (`COLOR_DARK_BLUE`).
    pub name: String,
    pub number: i32,
    /// prost's variant (prefix-stripped UpperCamel: `DarkBlue`); `None` for an `allow_alias`
    /// duplicate, which prost does not emit.
    pub prost_variant: Option<String>,
    /// buffa's variant or alias const (proto name verbatim, keyword-escaped).
    pub buffa_variant: String,
    /// buffa's idiomatic alias const (`Color::DarkBlue`), if generated.
    pub buffa_alias: Option<String>,
}

/// An enum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enum {
    pub full_name: String,
    pub name: String,
    pub package: String,
    pub parent: Option<String>,
    pub prost_path: Vec<String>,
    pub buffa_path: Vec<String>,
    /// proto2 (closed) enum: buffa stores `E` rather than `EnumValue<E>`.
    pub closed: bool,
    pub values: Vec<EnumValue>,
    /// See [`Message::prost_extern_path`].
    pub prost_extern_path: Vec<String>,
}

impl Enum {
    /// The value whose prost variant is `variant` (also accepts buffa's variant or alias).
    pub fn value_by_rust_variant(&self, variant: &str) -> Option<&EnumValue> {
        let bare = unraw(variant);
        self.values
            .iter()
            .find(|v| v.prost_variant.as_deref().map(unraw) == Some(bare))
            .or_else(|| {
                self.values.iter().find(|v| {
                    unraw(&v.buffa_variant) == bare || v.buffa_alias.as_deref() == Some(bare)
                })
            })
    }
    pub fn value(&self, proto_name: &str) -> Option<&EnumValue> {
        self.values.iter().find(|v| v.name == proto_name)
    }
}

/// A named type whose Rust path differs between prost's extern-path resolution and buffa's
/// generated code, so the tonic builder needs an exact `extern_path` entry for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NameDifference {
    /// `greet.v1.GetHTTPThing` (no leading dot).
    pub full_name: String,
    pub package: String,
    /// What prost would write under the package's extern path.
    pub prost_path: Vec<String>,
    /// What buffa generates (relative to the package module).
    pub buffa_path: Vec<String>,
    /// `true` when the type is an RPC input or output, i.e. tonic's stubs name it.
    pub used_by_rpc: bool,
}

impl NameDifference {
    /// The exact `extern_path` arguments for this type given the Rust path of its package
    /// module in the buffa tree (`crate::connect::greet::v1`).
    pub fn extern_path(&self, package_rust_root: &str) -> (String, String) {
        let mut rust = package_rust_root.to_string();
        for seg in &self.buffa_path {
            rust.push_str("::");
            rust.push_str(seg);
        }
        (format!(".{}", self.full_name), rust)
    }
}

/// A resolved Rust item of the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item<'a> {
    Message(&'a Message),
    Enum(&'a Enum),
    /// A oneof enum (`hello_request::Kind`), with its message.
    Oneof(&'a Message, &'a Oneof),
}

/// The proto schema of a crate.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Schema {
    pub files: Vec<ProtoFile>,
    pub packages: Vec<Package>,
    pub services: Vec<Service>,
    /// Every message outside `google.protobuf`, map entries included (flagged).
    pub messages: Vec<Message>,
    /// Every enum outside `google.protobuf`.
    pub enums: Vec<Enum>,
    /// Well-known types (from [`BUFFA_TYPES_FILES`]) referenced by a field or method of the
    /// schema, sorted, without dots.
    pub wkt_uses: Vec<String>,
    /// Other `google.protobuf` types referenced (from `descriptor.proto`, `plugin.proto`):
    /// `buffa-types` does not have them, so the `.google.protobuf` extern path cannot serve them.
    pub descriptor_type_uses: Vec<String>,
}

impl Schema {
    /// The nested modules the generated code of a package holds, prost's and buffa's spelling
    /// (`amount_or_all` for a message `AmountOrAll` with a oneof or nested types): the first
    /// segment of every message, oneof and enum path that has more than one.
    pub fn nested_module_names(&self) -> std::collections::HashSet<String> {
        let paths = self
            .messages
            .iter()
            .flat_map(|m| {
                [&m.prost_path, &m.buffa_path].into_iter().chain(
                    m.oneofs
                        .iter()
                        .flat_map(|o| [&o.prost_enum_path, &o.buffa_enum_path]),
                )
            })
            .chain(
                self.enums
                    .iter()
                    .flat_map(|e| [&e.prost_path, &e.buffa_path]),
            );
        paths
            .filter(|p| p.len() > 1)
            .map(|p| p[0].clone())
            .collect()
    }

    /// Compiles `files` with `includes` as import paths (plus protox's bundled
    /// `google/protobuf/*.proto`).
    ///
    /// Each file must lie under one of `includes` (as for `protoc`), or be a path relative to one
    /// of them.
    pub fn load(files: &[PathBuf], includes: &[PathBuf]) -> Result<Schema, SchemaError> {
        if files.is_empty() {
            return Err(SchemaError::NoFiles);
        }
        let err = |e: protox::Error| SchemaError::Compile {
            files: files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            source: Box::new(e),
        };
        let mut compiler = protox::Compiler::new(includes).map_err(err)?;
        compiler.include_imports(true);
        compiler.open_files(files).map_err(err)?;
        let imports: BTreeSet<String> = compiler
            .files()
            .filter(|f| f.is_import())
            .map(|f| f.name().to_string())
            .collect();
        Ok(Schema::from_pool(&compiler.descriptor_pool(), &imports))
    }

    /// Like [`Schema::load`], for tests and callers holding proto sources in memory: `sources`
    /// are `(proto-relative name, text)`; the first `roots` of them are the files to compile, the
    /// others can be imported.
    pub fn from_sources(sources: &[(&str, &str)], roots: usize) -> Result<Schema, SchemaError> {
        let dir = std::env::temp_dir().join(format!(
            "connect-migrate-schema-{}-{}",
            std::process::id(),
            next_id()
        ));
        let write = || -> std::io::Result<()> {
            for (name, text) in sources {
                let p = dir.join(name);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(p, text)?;
            }
            Ok(())
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(SchemaError::Compile {
                files: dir.display().to_string(),
                source: Box::new(protox::Error::new(e)),
            });
        }
        let files: Vec<PathBuf> = sources[..roots.min(sources.len())]
            .iter()
            .map(|(n, _)| dir.join(n))
            .collect();
        let res = Schema::load(&files, std::slice::from_ref(&dir));
        let _ = std::fs::remove_dir_all(&dir);
        res
    }

    fn from_pool(pool: &DescriptorPool, imports: &BTreeSet<String>) -> Schema {
        let mut s = Schema::default();
        let mut pkgs: Vec<(String, bool)> = Vec::new();
        for f in pool.files() {
            let is_import = imports.contains(f.name());
            s.files.push(ProtoFile {
                name: f.name().to_string(),
                package: f.package_name().to_string(),
                is_import,
                syntax: match f.syntax() {
                    Syntax::Proto2 => ProtoSyntax::Proto2,
                    Syntax::Proto3 => ProtoSyntax::Proto3,
                },
            });
            if f.package_name() == WKT_PACKAGE {
                continue;
            }
            match pkgs.iter_mut().find(|(n, _)| n == f.package_name()) {
                Some((_, only_imported)) => *only_imported &= is_import,
                None => pkgs.push((f.package_name().to_string(), is_import)),
            }
        }
        s.packages = pkgs
            .into_iter()
            .map(|(name, only_imported)| Package {
                prost_module: package_segments(&name).map(naming::prost_snake).collect(),
                buffa_module: package_segments(&name)
                    .map(|seg| naming::buffa_path_segment(&naming::buffa_snake(seg)))
                    .collect(),
                name,
                only_imported,
            })
            .collect();

        let mut wkts = BTreeSet::new();
        for svc in pool.services() {
            let tonic_trait = naming::prost_upper_camel(svc.name());
            let connect_upper = naming::heck_upper_camel(svc.name());
            let snake = naming::tonic_naive_snake(&tonic_trait);
            let methods = svc
                .methods()
                .map(|m| {
                    for t in [m.input(), m.output()] {
                        if is_wkt(t.full_name()) {
                            wkts.insert(t.full_name().to_string());
                        }
                    }
                    let kind =
                        StreamingKind::from_flags(m.is_client_streaming(), m.is_server_streaming());
                    Method {
                        tonic_stream_type: kind
                            .server_streaming()
                            .then(|| format!("{}Stream", m.name())),
                        name: m.name().to_string(),
                        rust_name: naming::prost_snake(m.name()),
                        input: m.input().full_name().to_string(),
                        output: m.output().full_name().to_string(),
                        kind,
                    }
                })
                .collect();
            s.services.push(Service {
                name: svc.name().to_string(),
                full_name: svc.full_name().to_string(),
                package: svc.package_name().to_string(),
                tonic_server_mod: format!("{snake}_server"),
                tonic_server: format!("{tonic_trait}Server"),
                tonic_client_mod: format!("{snake}_client"),
                tonic_client: format!("{tonic_trait}Client"),
                tonic_trait,
                connect_trait: if connect_upper == "Self" {
                    "Self_".into()
                } else {
                    connect_upper.clone()
                },
                connect_client: format!("{connect_upper}Client"),
                connect_server: format!("{connect_upper}Server"),
                connect_ext: format!("{connect_upper}Ext"),
                connect_service_name_const: format!(
                    "{}_SERVICE_NAME",
                    naming::heck_snake(svc.name()).to_uppercase()
                ),
                methods,
            });
        }
        let top = buffa_top_modules(pool);
        for m in pool.all_messages() {
            if is_wkt(m.full_name()) {
                continue;
            }
            for f in m.fields() {
                if let Some(t) = field_kind(&f).type_name() {
                    if is_wkt(t) {
                        wkts.insert(t.to_string());
                    }
                }
            }
            s.messages.push(convert_message(&m, &top));
        }
        for e in pool.all_enums() {
            if is_wkt(e.full_name()) {
                continue;
            }
            s.enums.push(convert_enum(&e, &top));
        }
        let (buffa_types, other): (Vec<String>, Vec<String>) = wkts.into_iter().partition(|n| {
            pool.get_message_by_name(n)
                .map(|m| m.parent_file().name().to_string())
                .or_else(|| {
                    pool.get_enum_by_name(n)
                        .map(|e| e.parent_file().name().to_string())
                })
                .is_some_and(|f| BUFFA_TYPES_FILES.contains(&f.as_str()))
        });
        s.wkt_uses = buffa_types;
        s.descriptor_type_uses = other;
        s
    }
}

fn next_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn package_segments(pkg: &str) -> impl Iterator<Item = &str> {
    pkg.split('.').filter(|s| !s.is_empty())
}

fn scalar(kind: &Kind) -> Option<ScalarType> {
    Some(match kind {
        Kind::Double => ScalarType::Double,
        Kind::Float => ScalarType::Float,
        Kind::Int32 => ScalarType::Int32,
        Kind::Int64 => ScalarType::Int64,
        Kind::Uint32 => ScalarType::Uint32,
        Kind::Uint64 => ScalarType::Uint64,
        Kind::Sint32 => ScalarType::Sint32,
        Kind::Sint64 => ScalarType::Sint64,
        Kind::Fixed32 => ScalarType::Fixed32,
        Kind::Fixed64 => ScalarType::Fixed64,
        Kind::Sfixed32 => ScalarType::Sfixed32,
        Kind::Sfixed64 => ScalarType::Sfixed64,
        Kind::Bool => ScalarType::Bool,
        Kind::String => ScalarType::String,
        Kind::Bytes => ScalarType::Bytes,
        Kind::Message(_) | Kind::Enum(_) => return None,
    })
}

fn element_kind(kind: &Kind) -> FieldKind {
    match kind {
        Kind::Message(m) => FieldKind::Message(m.full_name().to_string()),
        Kind::Enum(e) => FieldKind::Enum(e.full_name().to_string()),
        other => FieldKind::Scalar(scalar(other).expect("scalar kind")),
    }
}

fn field_kind(f: &FieldDescriptor) -> FieldKind {
    if f.is_map() {
        if let Kind::Message(entry) = f.kind() {
            let key = scalar(&entry.map_entry_key_field().kind()).unwrap_or(ScalarType::String);
            let value = element_kind(&entry.map_entry_value_field().kind());
            return FieldKind::Map {
                key,
                value: Box::new(value),
            };
        }
    }
    element_kind(&f.kind())
}

/// Proto names from the package down to `name` (`["Outer", "Inner"]`).
fn scope_names(full_name: &str, package: &str) -> Vec<String> {
    let rest = if package.is_empty() {
        full_name
    } else {
        full_name
            .strip_prefix(package)
            .and_then(|r| r.strip_prefix('.'))
            .unwrap_or(full_name)
    };
    rest.split('.').map(str::to_string).collect()
}

fn prost_type_path(scope: &[String]) -> Vec<String> {
    let (last, parents) = scope.split_last().expect("non-empty scope");
    parents
        .iter()
        .map(|p| naming::prost_ident(NameKind::NestedModule, p))
        .chain(std::iter::once(naming::prost_ident(NameKind::Type, last)))
        .collect()
}

/// Module names buffa gives the nested-types modules of top-level messages, by message full
/// name, where they differ from `snake_case(Name)`: a module that would collide with a
/// sub-package module of the same package gets `_` appended until unique (buffa's issue #135
/// rule: unique against the sub-package segments, every message's plain module name, `__buffa`
/// and the names already assigned, assigned in order of the plain name).
type TopModules = std::collections::HashMap<String, String>;

fn buffa_top_modules(pool: &DescriptorPool) -> TopModules {
    let packages: BTreeSet<String> = pool.files().map(|f| f.package_name().to_string()).collect();
    let mut out = TopModules::new();
    for pkg in &packages {
        let children: BTreeSet<String> = packages
            .iter()
            .filter_map(|p| {
                let rest = if pkg.is_empty() {
                    Some(p.as_str())
                } else {
                    p.strip_prefix(pkg.as_str())
                        .and_then(|r| r.strip_prefix('.'))
                };
                rest.filter(|r| !r.is_empty())
                    .map(|r| r.split('.').next().unwrap_or(r).to_string())
            })
            .collect();
        if children.is_empty() {
            continue;
        }
        let msgs: Vec<(String, String)> = pool
            .files()
            .filter(|f| f.package_name() == pkg)
            .flat_map(|f| f.messages().collect::<Vec<_>>())
            .map(|m| (m.full_name().to_string(), naming::buffa_snake(m.name())))
            .collect();
        let mut taken: BTreeSet<String> = children.clone();
        taken.insert("__buffa".into());
        taken.extend(msgs.iter().map(|(_, b)| b.clone()));
        let mut order: Vec<&(String, String)> = msgs.iter().collect();
        order.sort_by(|a, b| a.1.cmp(&b.1));
        for (full, base) in order {
            if !children.contains(base) {
                continue;
            }
            let mut candidate = format!("{base}_");
            while taken.contains(&candidate) {
                candidate.push('_');
            }
            taken.insert(candidate.clone());
            out.insert(full.clone(), candidate);
        }
    }
    out
}

/// buffa's module for the nested types of message `full_name` (`name` is its proto name).
fn buffa_message_module(full_name: &str, name: &str, top: &TopModules) -> String {
    naming::buffa_path_segment(
        &top.get(full_name)
            .cloned()
            .unwrap_or_else(|| naming::buffa_snake(name)),
    )
}

fn buffa_type_path(scope: &[String], package: &str, top: &TopModules) -> Vec<String> {
    let (last, parents) = scope.split_last().expect("non-empty scope");
    let mut full = package.to_string();
    let mut out = Vec::with_capacity(scope.len());
    for p in parents {
        if !full.is_empty() {
            full.push('.');
        }
        full.push_str(p);
        out.push(buffa_message_module(&full, p, top));
    }
    out.push(naming::buffa_ident(NameKind::Type, last));
    out
}

/// prost-build's resolution of a type under a package-prefix `extern_path`: every segment after
/// the prefix is snake-cased except the last, which is UpperCamel-cased.
fn prost_extern_type_path(scope: &[String]) -> Vec<String> {
    prost_type_path(scope)
}

fn convert_message(m: &MessageDescriptor, top: &TopModules) -> Message {
    let package = m.package_name().to_string();
    let scope = scope_names(m.full_name(), &package);
    let prost_path = prost_type_path(&scope);
    let buffa_path = buffa_type_path(&scope, &package, top);
    let prost_mod = naming::prost_snake(m.name());
    let buffa_mod = buffa_message_module(m.full_name(), m.name(), top);
    let parent_prost: Vec<String> = prost_path[..prost_path.len() - 1].to_vec();
    let parent_buffa: Vec<String> = buffa_path[..buffa_path.len() - 1].to_vec();

    let fields: Vec<Field> = m
        .fields()
        .map(|f| {
            let proto3_optional = f.field_descriptor_proto().proto3_optional();
            let oneof = f
                .containing_oneof()
                .filter(|o| !o.is_synthetic())
                .map(|o| o.name().to_string());
            let label = if f.is_map() {
                Label::Map
            } else if f.is_list() {
                Label::Repeated
            } else {
                match f.cardinality() {
                    Cardinality::Required => Label::Required,
                    _ if proto3_optional => Label::Optional,
                    Cardinality::Optional
                        if m.parent_file().syntax() == Syntax::Proto2 && oneof.is_none() =>
                    {
                        Label::Optional
                    }
                    _ => Label::Implicit,
                }
            };
            Field {
                name: f.name().to_string(),
                number: f.number(),
                prost_name: naming::prost_ident(NameKind::Field, f.name()),
                buffa_name: naming::buffa_ident(NameKind::Field, f.name()),
                kind: field_kind(&f),
                label,
                proto3_optional,
                oneof,
            }
        })
        .collect();

    let nested_names: Vec<String> = m
        .child_messages()
        .map(|c| c.name().to_string())
        .chain(m.child_enums().map(|e| e.name().to_string()))
        .collect();
    let oneofs = m
        .oneofs()
        .filter(|o| !o.is_synthetic())
        .map(|o| {
            let mut prost_type = naming::prost_ident(NameKind::OneofEnum, o.name());
            if nested_names
                .iter()
                .any(|n| naming::prost_upper_camel(n) == prost_type)
            {
                prost_type.push_str("OneOf");
            }
            let mut prost_enum_path = parent_prost.clone();
            prost_enum_path.push(prost_mod.clone());
            prost_enum_path.push(prost_type);
            let mut buffa_enum_path = parent_buffa.clone();
            buffa_enum_path.push(buffa_mod.clone());
            buffa_enum_path.push(naming::buffa_ident(NameKind::OneofEnum, o.name()));
            Oneof {
                name: o.name().to_string(),
                prost_field: naming::prost_ident(NameKind::Field, o.name()),
                buffa_field: naming::buffa_ident(NameKind::Field, o.name()),
                prost_enum_path,
                buffa_enum_path,
                variants: o
                    .fields()
                    .map(|f| OneofVariant {
                        field: f.name().to_string(),
                        prost_variant: naming::prost_ident(NameKind::OneofVariant, f.name()),
                        buffa_variant: naming::buffa_ident(NameKind::OneofVariant, f.name()),
                        kind: field_kind(&f),
                    })
                    .collect(),
            }
        })
        .collect();

    Message {
        full_name: m.full_name().to_string(),
        name: m.name().to_string(),
        parent: m.parent_message().map(|p| p.full_name().to_string()),
        prost_extern_path: prost_extern_type_path(&scope),
        package,
        prost_path,
        buffa_path,
        fields,
        oneofs,
        is_map_entry: m.is_map_entry(),
    }
}

fn convert_enum(e: &EnumDescriptor, top: &TopModules) -> Enum {
    let package = e.package_name().to_string();
    let scope = scope_names(e.full_name(), &package);
    let mut seen = BTreeSet::new();
    // Declaration order from the descriptor proto (the pool's value list is not in it when
    // `allow_alias` duplicates exist).
    let mut values: Vec<EnumValue> = e
        .enum_descriptor_proto()
        .value
        .iter()
        .map(|v| {
            let prost_variant = seen.insert(v.number()).then(|| {
                naming::prost_ident(
                    NameKind::EnumValue {
                        enum_name: e.name(),
                    },
                    v.name(),
                )
            });
            EnumValue {
                name: v.name().to_string(),
                number: v.number(),
                prost_variant,
                buffa_variant: naming::buffa_ident(
                    NameKind::EnumValue {
                        enum_name: e.name(),
                    },
                    v.name(),
                ),
                buffa_alias: None,
            }
        })
        .collect();
    let names: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    let aliases = naming::buffa_enum_aliases(e.name(), &names);
    for (v, a) in values.iter_mut().zip(aliases) {
        v.buffa_alias = a;
    }
    Enum {
        full_name: e.full_name().to_string(),
        name: e.name().to_string(),
        parent: e.parent_message().map(|p| p.full_name().to_string()),
        prost_path: prost_type_path(&scope),
        buffa_path: buffa_type_path(&scope, &package, top),
        prost_extern_path: prost_extern_type_path(&scope),
        closed: e.parent_file().syntax() == Syntax::Proto2,
        package,
        values,
    }
}

impl Schema {
    /// Whether any field or method uses a well-known type.
    pub fn uses_wkt(&self) -> bool {
        !self.wkt_uses.is_empty()
    }

    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// Packages of the files that were compiled (not only imported), without `google.protobuf`.
    pub fn generated_packages(&self) -> impl Iterator<Item = &Package> {
        self.packages.iter().filter(|p| !p.only_imported)
    }

    pub fn message(&self, full_name: &str) -> Option<&Message> {
        let n = full_name.strip_prefix('.').unwrap_or(full_name);
        self.messages.iter().find(|m| m.full_name == n)
    }

    pub fn enum_(&self, full_name: &str) -> Option<&Enum> {
        let n = full_name.strip_prefix('.').unwrap_or(full_name);
        self.enums.iter().find(|e| e.full_name == n)
    }

    pub fn service(&self, full_name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.full_name == full_name)
    }

    /// Resolves a Rust path as written in user code, in prost's or buffa's spelling (`pb::outer::Inner`,
    /// `crate::pb::Color`, `HelloRequest`, `greet::v1::HelloRequest`) to the schema items it can
    /// name. A candidate's package-relative prost path must be a suffix of `path`; when several
    /// packages qualify, those whose package module also matches the segments before it are
    /// preferred. More than one result means the path is ambiguous from syntax alone.
    pub fn items_by_rust_path(&self, path: &[&str]) -> Vec<Item<'_>> {
        let path: Vec<&str> = path
            .iter()
            .map(|s| unraw(s))
            .filter(|s| !s.is_empty())
            .collect();
        let mut found: Vec<(usize, Item<'_>)> = Vec::new();
        // Both spellings are accepted, so code that step 1 already rewrote resolves too.
        let score = |pkg: &str, prost: &[String], buffa: &[String]| -> Option<usize> {
            let one = |rel: &[String], module: Option<Vec<String>>| {
                score_path(&path, rel, &module.unwrap_or_default())
            };
            let p = self.package(pkg);
            let a = one(prost, p.map(|p| p.prost_module.clone()));
            let b = one(buffa, p.map(|p| p.buffa_module.clone()));
            a.max(b)
        };
        fn score_path(path: &[&str], rel: &[String], module: &[String]) -> Option<usize> {
            if rel.len() > path.len() {
                return None;
            }
            let tail = &path[path.len() - rel.len()..];
            if !tail.iter().zip(rel).all(|(a, b)| *a == unraw(b)) {
                return None;
            }
            let before = &path[..path.len() - rel.len()];
            let matched = before
                .iter()
                .rev()
                .zip(module.iter().rev())
                .take_while(|(a, b)| **a == unraw(b))
                .count();
            Some(matched)
        }
        for m in self.messages.iter().filter(|m| !m.is_map_entry) {
            if let Some(s) = score(&m.package, &m.prost_path, &m.buffa_path) {
                found.push((s, Item::Message(m)));
            }
            for o in &m.oneofs {
                if let Some(s) = score(&m.package, &o.prost_enum_path, &o.buffa_enum_path) {
                    found.push((s, Item::Oneof(m, o)));
                }
            }
        }
        for e in &self.enums {
            if let Some(s) = score(&e.package, &e.prost_path, &e.buffa_path) {
                found.push((s, Item::Enum(e)));
            }
        }
        let best = found.iter().map(|(s, _)| *s).max().unwrap_or(0);
        found
            .into_iter()
            .filter(|(s, _)| *s == best)
            .map(|(_, i)| i)
            .collect()
    }

    /// The message named by a prost Rust path in user code, when exactly one matches.
    pub fn message_by_rust_path(&self, path: &[&str]) -> Option<&Message> {
        match self.items_by_rust_path(path).as_slice() {
            [Item::Message(m)] => Some(m),
            _ => None,
        }
    }

    /// The enum named by a prost Rust path in user code, when exactly one matches.
    pub fn enum_by_rust_path(&self, path: &[&str]) -> Option<&Enum> {
        match self.items_by_rust_path(path).as_slice() {
            [Item::Enum(e)] => Some(e),
            _ => None,
        }
    }

    /// Field of a message by the Rust field name in user code.
    pub fn field_by_rust_name(&self, message: &str, rust_field: &str) -> Option<&Field> {
        self.message(message)?.field_by_rust_name(rust_field)
    }

    /// An enum value from a prost path in user code (`pb::Color::DarkBlue`): the last segment
    /// is the variant, the rest names the enum.
    pub fn enum_value_by_rust_path(&self, path: &[&str]) -> Option<(&Enum, &EnumValue)> {
        let (variant, enum_path) = path.split_last()?;
        let e = self.enum_by_rust_path(enum_path)?;
        Some((e, e.value_by_rust_variant(variant)?))
    }

    /// The service whose tonic server trait or server wrapper is named by `path`
    /// (`greeter_server::Greeter`, `pb::greeter_server::GreeterServer`). The last two segments
    /// must be given.
    pub fn service_by_tonic_server_path(&self, path: &[&str]) -> Option<&Service> {
        let [.., module, name] = path else {
            return None;
        };
        let hits: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| {
                s.tonic_server_mod == *module && (s.tonic_trait == *name || s.tonic_server == *name)
            })
            .collect();
        pick_service(hits, path)
    }

    /// The service whose tonic server trait or wrapper is `path` (as in
    /// [`Self::service_by_tonic_server_path`]) in the proto package `package`: the package the
    /// module holding the stubs includes decides between services of one name in several
    /// packages (`pb::echo_server::Echo`, with `pb` holding `grpc.examples.unaryecho`).
    pub fn service_by_tonic_server_in(&self, path: &[&str], package: &str) -> Option<&Service> {
        let [.., module, name] = path else {
            return None;
        };
        let mut hits = self.services.iter().filter(|s| {
            s.package == package
                && s.tonic_server_mod == *module
                && (s.tonic_trait == *name || s.tonic_server == *name)
        });
        let one = hits.next()?;
        hits.next().is_none().then_some(one)
    }

    /// The service whose tonic client is named by `path` (`greeter_client::GreeterClient`).
    pub fn service_by_tonic_client_path(&self, path: &[&str]) -> Option<&Service> {
        let [.., module, name] = path else {
            return None;
        };
        let hits: Vec<&Service> = self
            .services
            .iter()
            .filter(|s| s.tonic_client_mod == *module && s.tonic_client == *name)
            .collect();
        pick_service(hits, path)
    }

    /// The service whose tonic client is `path` (module and type, as in
    /// [`Self::service_by_tonic_client_path`]) in the proto package `package`: what decides
    /// between services of one name in several packages when the path names the generated
    /// module by the user's own name (`crate::sdk::api::sdk_client::SdkClient`, where `api`
    /// holds `agones.dev.sdk`).
    pub fn service_by_tonic_client_in(&self, path: &[&str], package: &str) -> Option<&Service> {
        let [.., module, name] = path else {
            return None;
        };
        let mut hits = self.services.iter().filter(|s| {
            s.package == package && s.tonic_client_mod == *module && s.tonic_client == *name
        });
        let one = hits.next()?;
        hits.next().is_none().then_some(one)
    }

    /// Full names of the messages used as an RPC input or output.
    pub fn rpc_types(&self) -> BTreeSet<&str> {
        self.services
            .iter()
            .flat_map(|s| &s.methods)
            .flat_map(|m| [m.input.as_str(), m.output.as_str()])
            .collect()
    }

    /// Every message and enum (map entries excepted) whose buffa path differs from the path
    /// prost-build derives under a package `extern_path`. For types that tonic's stubs name
    /// (`used_by_rpc`), `build.rs` must carry an exact `extern_path`; the others matter only to
    /// code that names them.
    ///
    /// A package whose buffa module spelling differs from prost's snake-casing of it makes every
    /// type of the package differ (prost re-snake-cases the extern path's segments too), which is
    /// reported by [`Schema::packages_needing_exact_paths`] instead.
    pub fn name_differences(&self) -> Vec<NameDifference> {
        let rpc = self.rpc_types();
        let msgs = self.messages.iter().filter(|m| !m.is_map_entry).map(|m| {
            (
                &m.full_name,
                &m.package,
                &m.prost_extern_path,
                &m.buffa_path,
            )
        });
        let enums = self.enums.iter().map(|e| {
            (
                &e.full_name,
                &e.package,
                &e.prost_extern_path,
                &e.buffa_path,
            )
        });
        msgs.chain(enums)
            .filter(|(_, _, p, b)| p != b)
            .map(|(full, pkg, p, b)| NameDifference {
                used_by_rpc: rpc.contains(full.as_str()),
                full_name: full.clone(),
                package: pkg.clone(),
                prost_path: p.clone(),
                buffa_path: b.clone(),
            })
            .collect()
    }

    /// Packages whose buffa module segments are not what prost-build produces when it
    /// snake-cases an extern path (`to_snake` is applied to every segment of the Rust side):
    /// a package-level `extern_path` cannot name them, so each RPC type of such a package needs
    /// an exact entry.
    pub fn packages_needing_exact_paths(&self) -> Vec<&Package> {
        self.packages
            .iter()
            .filter(|p| {
                p.buffa_module
                    .iter()
                    .any(|seg| naming::prost_snake(unraw(seg)) != *seg)
            })
            .collect()
    }
}

fn pick_service<'a>(hits: Vec<&'a Service>, path: &[&str]) -> Option<&'a Service> {
    match hits.len() {
        0 => None,
        1 => Some(hits[0]),
        _ => {
            // Disambiguate by package segments written before the module.
            let before = &path[..path.len() - 2];
            let mut best: Vec<&Service> = hits
                .into_iter()
                .filter(|s| {
                    let segs: Vec<String> = package_segments(&s.package)
                        .map(naming::prost_snake)
                        .collect();
                    !before.is_empty()
                        && before
                            .iter()
                            .rev()
                            .zip(segs.iter().rev())
                            .all(|(a, b)| *a == b)
                })
                .collect();
            if best.len() == 1 {
                best.pop()
            } else {
                None
            }
        }
    }
}

/// Naming rules of the generators, each written from its documented behaviour.
///
/// - prost-build: identifiers go through heck's word splitting (split at non-alphanumerics, at
///   a lower→upper transition (digits keep the case of what precedes them), and before the last
///   capital of an acronym followed by a lowercase letter), then keyword sanitizing (`r#type`,
///   `self_`, leading digit → `_`).
/// - buffa-codegen: type names verbatim; module names by its own `to_snake_case` (which does not
///   split after digits); field names verbatim; oneof enum/variant names by splitting on `_`
///   only; enum variants verbatim with idiomatic UpperCamel alias consts.
/// - tonic-build: service modules by `naive_snake_case` of prost's UpperCamel service name.
pub mod naming {
    const RAW_KEYWORDS: &[&str] = &[
        "as", "break", "const", "continue", "else", "enum", "false", "fn", "for", "if", "impl",
        "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static",
        "struct", "trait", "true", "type", "unsafe", "use", "where", "while", "dyn", "abstract",
        "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized",
        "virtual", "yield", "async", "await", "try", "gen",
    ];

    /// Words by heck's rules.
    pub fn heck_words(s: &str) -> Vec<String> {
        #[derive(Clone, Copy, PartialEq)]
        enum Case {
            None,
            Lower,
            Upper,
        }
        let mut words = Vec::new();
        for chunk in s.split(|c: char| !c.is_alphanumeric()) {
            let chars: Vec<char> = chunk.chars().collect();
            let mut start = 0;
            let mut case = Case::None;
            for i in 0..chars.len() {
                let c = chars[i];
                let Some(&next) = chars.get(i + 1) else {
                    words.push(chars[start..].iter().collect());
                    break;
                };
                let with_c = if c.is_lowercase() {
                    Case::Lower
                } else if c.is_uppercase() {
                    Case::Upper
                } else {
                    case
                };
                if with_c == Case::Lower && next.is_uppercase() {
                    words.push(chars[start..=i].iter().collect());
                    start = i + 1;
                    case = Case::None;
                } else if case == Case::Upper && c.is_uppercase() && next.is_lowercase() {
                    words.push(chars[start..i].iter().collect());
                    start = i;
                    case = Case::None;
                } else {
                    case = with_c;
                }
            }
        }
        words
    }

    fn capitalize(w: &str) -> String {
        let mut cs = w.chars();
        match cs.next() {
            Some(f) => f
                .to_uppercase()
                .chain(cs.flat_map(char::to_lowercase))
                .collect(),
            None => String::new(),
        }
    }

    /// heck `to_snake_case`.
    pub fn heck_snake(s: &str) -> String {
        heck_words(s)
            .iter()
            .map(|w| w.to_lowercase())
            .collect::<Vec<_>>()
            .join("_")
    }

    /// heck `to_upper_camel_case`.
    pub fn heck_upper_camel(s: &str) -> String {
        heck_words(s).iter().map(|w| capitalize(w)).collect()
    }

    /// prost's identifier sanitizing.
    pub fn prost_sanitize(ident: &str) -> String {
        match ident {
            "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
            i if RAW_KEYWORDS.contains(&i) => format!("r#{i}"),
            i if i.starts_with(|c: char| c.is_numeric()) => format!("_{i}"),
            i => i.to_string(),
        }
    }

    /// prost's `to_snake` (fields, modules, methods).
    pub fn prost_snake(s: &str) -> String {
        prost_sanitize(&heck_snake(s))
    }

    /// prost's `to_upper_camel` (types, oneof enums and variants, enum variants).
    pub fn prost_upper_camel(s: &str) -> String {
        prost_sanitize(&heck_upper_camel(s))
    }

    /// prost's enum-prefix stripping (`Color` + `ColorDarkBlue` → `DarkBlue`; `Foo` is not a
    /// prefix of `Foobar`).
    pub fn prost_strip_enum_prefix(enum_name: &str, variant: &str) -> String {
        let stripped = variant
            .strip_prefix(enum_name)
            .filter(|rest| rest.starts_with(char::is_uppercase))
            .unwrap_or(variant);
        prost_sanitize(stripped)
    }

    /// buffa's field/variant identifier escaping: raw identifiers where allowed, `_` suffix for
    /// `self`, `super`, `Self`, `crate`.
    pub fn buffa_field_ident(name: &str) -> String {
        match name {
            "self" | "super" | "Self" | "crate" => format!("{name}_"),
            n if RAW_KEYWORDS.contains(&n) || n == "extern" => format!("r#{n}"),
            n => n.to_string(),
        }
    }

    /// buffa's path-segment escaping (raw identifiers for keywords).
    pub fn buffa_path_segment(seg: &str) -> String {
        if RAW_KEYWORDS.contains(&seg) || seg == "extern" {
            format!("r#{seg}")
        } else {
            seg.to_string()
        }
    }

    /// buffa's type identifier: the proto name verbatim.
    pub fn buffa_type_ident(name: &str) -> String {
        name.to_string()
    }

    /// Whether a capital at `i` starts a new word by buffa's rules: it follows a lowercase letter
    /// (or, when `after_digit`, a digit), or it ends an acronym (a capital follows and a
    /// lowercase letter comes next: the `R` of `HTTPRequest`).
    fn buffa_word_start(chars: &[char], i: usize, after_digit: bool) -> bool {
        let Some(prev) = i.checked_sub(1).map(|p| chars[p]) else {
            return false;
        };
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
        chars[i].is_uppercase()
            && (prev.is_lowercase()
                || (after_digit && prev.is_ascii_digit())
                || (prev.is_uppercase() && next_lower))
    }

    /// buffa's `to_snake_case` (module names): `_` at each word start (not after digits),
    /// everything lowercased, existing underscores kept.
    pub fn buffa_snake(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::with_capacity(s.len() + 4);
        for (i, c) in chars.iter().enumerate() {
            if buffa_word_start(&chars, i, false) {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        }
        out
    }

    /// buffa's `to_pascal_case` (oneof enums and variants): split on `_`, upper-case the first
    /// letter of each part, keep the rest.
    pub fn buffa_pascal(s: &str) -> String {
        s.split('_')
            .map(|part| {
                let mut cs = part.chars();
                match cs.next() {
                    Some(f) => f.to_uppercase().chain(cs).collect::<String>(),
                    None => String::new(),
                }
            })
            .collect()
    }

    /// buffa's UpperCamel conversion for enum alias consts: words split at `_` and at word
    /// starts, each capitalized with the rest lowercased.
    pub fn buffa_upper_camel(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut words: Vec<Vec<char>> = vec![vec![]];
        for (i, &c) in chars.iter().enumerate() {
            if c == '_' {
                words.push(vec![]);
                continue;
            }
            if buffa_word_start(&chars, i, false) && chars[i - 1] != '_' {
                words.push(vec![]);
            }
            words.last_mut().expect("non-empty").push(c);
        }
        words
            .iter()
            .filter(|w| !w.is_empty())
            .flat_map(|w| {
                let head = w[0].to_uppercase();
                let tail = w[1..].iter().flat_map(|c| c.to_lowercase());
                head.chain(tail).collect::<Vec<char>>()
            })
            .collect()
    }

    /// buffa's SHOUTY_SNAKE form of an enum name (the value prefix it strips): `_` at word
    /// starts (here also after digits), existing underscores kept, everything uppercased.
    pub fn buffa_shouty(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
        for (i, c) in chars.iter().enumerate() {
            if *c != '_' && buffa_word_start(&chars, i, true) && chars[i - 1] != '_' {
                out.push('_');
            }
            out.extend(c.to_uppercase());
        }
        out
    }

    /// buffa's idiomatic alias consts for an enum's values (in order), all-or-nothing: the
    /// `ENUM_NAME_` prefix is stripped only if every value carries it; if two values would
    /// collide (or a name would be invalid) no alias is generated for any value; an alias equal
    /// to an existing variant name is not generated.
    pub fn buffa_enum_aliases(enum_name: &str, values: &[&str]) -> Vec<Option<String>> {
        let prefix = format!("{}_", buffa_shouty(enum_name));
        let valid = |c: &str| !c.is_empty() && !c.starts_with(|ch: char| ch.is_ascii_digit());
        let strip = values.iter().all(|v| {
            v.strip_prefix(&prefix)
                .is_some_and(|b| valid(&buffa_upper_camel(b)))
        });
        let camel: Vec<String> = values
            .iter()
            .map(|v| {
                let base = if strip {
                    v.strip_prefix(&prefix).unwrap_or(v)
                } else {
                    v
                };
                buffa_upper_camel(base)
            })
            .collect();
        let own: Vec<String> = values.iter().map(|v| buffa_field_ident(v)).collect();
        let mut ok = camel.iter().all(|c| valid(c));
        for (i, c) in camel.iter().enumerate() {
            let esc = buffa_field_ident(c);
            let clash_other_alias = camel
                .iter()
                .enumerate()
                .any(|(j, d)| j != i && buffa_field_ident(d) == esc);
            let clash_other_variant = own.iter().enumerate().any(|(j, o)| j != i && *o == esc);
            if clash_other_alias || clash_other_variant {
                ok = false;
            }
        }
        camel
            .into_iter()
            .zip(&own)
            .map(|(c, o)| {
                let esc = buffa_field_ident(&c);
                (ok && esc != *o).then_some(esc)
            })
            .collect()
    }

    /// What a proto name names, for the two spellings [`prost_ident`] and [`buffa_ident`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum NameKind<'a> {
        /// A message or enum type (its own segment, not the modules above it).
        Type,
        /// The module holding a message's nested types and oneof enums.
        NestedModule,
        /// A field, or the struct field of a oneof.
        Field,
        /// The enum type of a oneof (prost's `OneOf` suffix on a clash is the schema's concern).
        OneofEnum,
        /// A variant of a oneof enum (the proto name of the member field).
        OneofVariant,
        /// A value of the enum named `enum_name` (its proto name).
        EnumValue { enum_name: &'a str },
    }

    /// The identifier prost-build gives a proto name of this kind: heck's word splitting, then
    /// UpperCamel for types and variants (an enum's own name stripped from its values), snake
    /// for fields and modules, then keyword sanitizing. `HashKVRequest` -> `HashKvRequest`,
    /// `TTL` -> `ttl`, `peerURLs` -> `peer_ur_ls`.
    pub fn prost_ident(kind: NameKind<'_>, name: &str) -> String {
        match kind {
            NameKind::Type | NameKind::OneofEnum | NameKind::OneofVariant => {
                prost_upper_camel(name)
            }
            NameKind::NestedModule | NameKind::Field => prost_snake(name),
            NameKind::EnumValue { enum_name } => {
                prost_strip_enum_prefix(&prost_upper_camel(enum_name), &prost_upper_camel(name))
            }
        }
    }

    /// The identifier buffa-codegen 0.9 gives a proto name of this kind (its defaults: no
    /// `idiomatic_field_names`): types, fields and enum values verbatim (keywords escaped),
    /// nested modules by its own snake-casing (a module that clashes with a sub-package gets
    /// `_` appended: the schema's concern), oneof enums and variants by splitting on `_` only.
    /// `HashKVRequest` -> `HashKVRequest`, `TTL` -> `TTL`, `peerURLs` -> `peerURLs`.
    pub fn buffa_ident(kind: NameKind<'_>, name: &str) -> String {
        match kind {
            NameKind::Type => buffa_type_ident(name),
            NameKind::NestedModule => buffa_path_segment(&buffa_snake(name)),
            NameKind::Field | NameKind::EnumValue { .. } => buffa_field_ident(name),
            NameKind::OneofEnum => buffa_pascal(name),
            NameKind::OneofVariant => buffa_field_ident(&buffa_pascal(name)),
        }
    }

    /// tonic-build's `naive_snake_case`: `_` before every uppercase letter but the first.
    pub fn tonic_naive_snake(name: &str) -> String {
        let mut s = String::new();
        let mut it = name.chars().peekable();
        while let Some(c) = it.next() {
            s.push(c.to_ascii_lowercase());
            if it.peek().is_some_and(|n| n.is_uppercase()) {
                s.push('_');
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::naming::*;
    use super::*;

    fn data() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data"))
    }

    fn load(files: &[&str]) -> Schema {
        let d = data();
        let files: Vec<PathBuf> = files.iter().map(|f| d.join(f)).collect();
        Schema::load(&files, &[d]).expect("schema loads")
    }

    fn greet() -> Schema {
        load(&["greet/v1/greet.proto"])
    }

    fn names() -> Schema {
        load(&["names/v1/names.proto"])
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn heck_rules() {
        assert_eq!(heck_snake("HTTPRequest"), "http_request");
        assert_eq!(heck_snake("fooBar"), "foo_bar");
        assert_eq!(heck_snake("Foo_Bar"), "foo_bar");
        assert_eq!(heck_snake("Foo2Bar"), "foo2_bar");
        assert_eq!(heck_snake("XMLPart"), "xml_part");
        assert_eq!(heck_snake("lower_snake_msg"), "lower_snake_msg");
        assert_eq!(heck_snake("_leading"), "leading");
        assert_eq!(heck_upper_camel("GetHTTPThing"), "GetHttpThing");
        assert_eq!(heck_upper_camel("lower_snake_msg"), "LowerSnakeMsg");
        assert_eq!(heck_upper_camel("COLOR_DARK_BLUE"), "ColorDarkBlue");
        assert_eq!(heck_upper_camel("Foo_Bar"), "FooBar");
        assert_eq!(heck_upper_camel("u32"), "U32");
        assert_eq!(heck_upper_camel("LEVEL_HTTP2"), "LevelHttp2");
    }

    #[test]
    fn prost_sanitizing() {
        assert_eq!(prost_snake("type"), "r#type");
        assert_eq!(prost_snake("self"), "self_");
        assert_eq!(prost_upper_camel("self"), "Self_");
        assert_eq!(prost_snake("2fast"), "_2fast");
        assert_eq!(prost_strip_enum_prefix("Color", "ColorRed"), "Red");
        assert_eq!(prost_strip_enum_prefix("Foo", "Foobar"), "Foobar");
        assert_eq!(prost_strip_enum_prefix("Version", "Version2"), "Version2");
    }

    #[test]
    fn buffa_rules_differ_from_prost_where_expected() {
        assert_eq!(buffa_snake("Foo2Bar"), "foo2bar");
        assert_eq!(buffa_snake("GetHTTPThing"), "get_http_thing");
        assert_eq!(buffa_pascal("HTTPChoice"), "HTTPChoice");
        assert_eq!(buffa_pascal("raw_text"), "RawText");
        assert_eq!(buffa_upper_camel("HTTPServer"), "HttpServer");
        assert_eq!(buffa_shouty("HTTPServer"), "HTTP_SERVER");
        assert_eq!(buffa_shouty("Level2Thing"), "LEVEL2_THING");
        assert_eq!(buffa_shouty("Foo_Bar"), "FOO_BAR");
        assert_eq!(buffa_upper_camel("myValue"), "MyValue");
        assert_eq!(buffa_upper_camel("FOO__BAR"), "FooBar");
        assert_eq!(buffa_upper_camel("VERSION_2"), "Version2");
        assert_eq!(buffa_upper_camel("_lead"), "Lead");
        assert_eq!(buffa_snake("myHTTPServer_v2"), "my_http_server_v2");
        assert_eq!(buffa_field_ident("type"), "r#type");
        assert_eq!(buffa_field_ident("self"), "self_");
        assert_eq!(buffa_field_ident("extern"), "r#extern");
        assert_eq!(prost_snake("extern"), "extern_");
        assert_eq!(tonic_naive_snake("HttpService"), "http_service");
        assert_eq!(tonic_naive_snake("Greeter"), "greeter");
    }

    /// The two spellings of one proto name, as prost-build (heck 0.5) and buffa-codegen 0.9
    /// write them (the prost column checked against heck's `to_snake_case` /
    /// `to_upper_camel_case`).
    #[test]
    fn prost_and_buffa_spell_proto_names() {
        let cases: &[(NameKind, &str, &str, &str)] = &[
            (
                NameKind::Type,
                "HashKVRequest",
                "HashKvRequest",
                "HashKVRequest",
            ),
            (NameKind::Type, "HTTPHeader", "HttpHeader", "HTTPHeader"),
            (NameKind::Type, "IPv4", "IPv4", "IPv4"),
            (NameKind::Type, "foo_bar2", "FooBar2", "foo_bar2"),
            (NameKind::Type, "Greeting", "Greeting", "Greeting"),
            (NameKind::Field, "TTL", "ttl", "TTL"),
            (NameKind::Field, "ID", "id", "ID"),
            (NameKind::Field, "IPv4", "i_pv4", "IPv4"),
            (NameKind::Field, "foo_bar2", "foo_bar2", "foo_bar2"),
            (NameKind::Field, "peerURLs", "peer_ur_ls", "peerURLs"),
            (NameKind::Field, "grantedTTL", "granted_ttl", "grantedTTL"),
            (NameKind::Field, "type", "r#type", "r#type"),
            (NameKind::Field, "self", "self_", "self_"),
            (
                NameKind::NestedModule,
                "HTTPHeader",
                "http_header",
                "http_header",
            ),
            (NameKind::NestedModule, "foo_bar2", "foo_bar2", "foo_bar2"),
            (NameKind::NestedModule, "Foo2Bar", "foo2_bar", "foo2bar"),
            (NameKind::OneofEnum, "IPv4", "IPv4", "IPv4"),
            (
                NameKind::OneofEnum,
                "http_header",
                "HttpHeader",
                "HttpHeader",
            ),
            (
                NameKind::OneofVariant,
                "HTTPHeader",
                "HttpHeader",
                "HTTPHeader",
            ),
            (NameKind::OneofVariant, "ID", "Id", "ID"),
            (
                NameKind::EnumValue { enum_name: "Addr" },
                "ADDR_IPV4",
                "Ipv4",
                "ADDR_IPV4",
            ),
            (
                NameKind::EnumValue { enum_name: "Addr" },
                "IPv4",
                "IPv4",
                "IPv4",
            ),
            (
                NameKind::EnumValue { enum_name: "Event" },
                "PUT",
                "Put",
                "PUT",
            ),
        ];
        for (kind, proto, prost, buffa) in cases {
            assert_eq!(prost_ident(*kind, proto), *prost, "prost {kind:?} {proto}");
            assert_eq!(buffa_ident(*kind, proto), *buffa, "buffa {kind:?} {proto}");
        }
    }

    #[test]
    fn buffa_enum_alias_rules() {
        assert_eq!(
            buffa_enum_aliases("Color", &["COLOR_UNSPECIFIED", "COLOR_DARK_BLUE"]),
            vec![Some("Unspecified".into()), Some("DarkBlue".into())]
        );
        // Not every value has the prefix: nothing is stripped.
        assert_eq!(
            buffa_enum_aliases("Mixed", &["MIXED_UNSPECIFIED", "OTHER"]),
            vec![Some("MixedUnspecified".into()), Some("Other".into())]
        );
        // A collision suppresses every alias of the enum.
        assert_eq!(
            buffa_enum_aliases(
                "Clash",
                &["CLASH_FOO_BAR", "CLASH_FOOBAR", "CLASH_FOO__BAR"]
            ),
            vec![None, None, None]
        );
        // An alias equal to the variant is not emitted.
        assert_eq!(
            buffa_enum_aliases("E", &["Ok", "E_X"]),
            vec![None, Some("EX".into())]
        );
    }

    #[test]
    fn load_reports_missing_file_and_empty_input() {
        assert!(matches!(
            Schema::load(&[], &[data()]),
            Err(SchemaError::NoFiles)
        ));
        let err = Schema::load(&[data().join("nope/missing.proto")], &[data()]).unwrap_err();
        assert!(matches!(err, SchemaError::Compile { .. }));
        assert!(err.to_string().contains("missing.proto"));
    }

    #[test]
    fn load_reports_parse_errors() {
        let err = Schema::from_sources(&[("bad.proto", "syntax = \"proto3\"; message {")], 1)
            .unwrap_err();
        assert!(matches!(err, SchemaError::Compile { .. }));
    }

    #[test]
    fn files_and_packages() {
        let sc = greet();
        let f = sc
            .files
            .iter()
            .find(|f| f.name == "greet/v1/greet.proto")
            .unwrap();
        assert!(!f.is_import);
        assert_eq!(f.syntax, ProtoSyntax::Proto3);
        let c = sc
            .files
            .iter()
            .find(|f| f.name == "common/types.proto")
            .unwrap();
        assert!(c.is_import);
        assert!(sc
            .files
            .iter()
            .any(|f| f.name == "google/protobuf/timestamp.proto" && f.is_import));
        let p = sc.package("greet.v1").unwrap();
        assert_eq!(p.prost_module, s(&["greet", "v1"]));
        assert_eq!(p.buffa_module, s(&["greet", "v1"]));
        assert!(!p.only_imported);
        assert!(sc.package("common").unwrap().only_imported);
        assert!(sc.package("google.protobuf").is_none());
        let gen: Vec<&str> = sc.generated_packages().map(|p| p.name.as_str()).collect();
        assert_eq!(gen, vec!["greet.v1"]);
    }

    #[test]
    fn services_and_streaming_kinds() {
        let sc = greet();
        let svc = sc.service("greet.v1.Greeter").unwrap();
        assert_eq!(svc.tonic_trait, "Greeter");
        assert_eq!(svc.tonic_server_mod, "greeter_server");
        assert_eq!(svc.tonic_server, "GreeterServer");
        assert_eq!(svc.tonic_client_mod, "greeter_client");
        assert_eq!(svc.tonic_client, "GreeterClient");
        let kinds: Vec<(&str, &str, StreamingKind)> = svc
            .methods
            .iter()
            .map(|m| (m.name.as_str(), m.rust_name.as_str(), m.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("SayHello", "say_hello", StreamingKind::Unary),
                ("Count", "count", StreamingKind::ServerStream),
                ("Sum", "sum", StreamingKind::ClientStream),
                ("Chat", "chat", StreamingKind::Bidi),
                ("Now", "now", StreamingKind::Unary),
                ("EchoInner", "echo_inner", StreamingKind::Unary),
            ]
        );
        let streams: Vec<Option<&str>> = svc
            .methods
            .iter()
            .map(|m| m.tonic_stream_type.as_deref())
            .collect();
        assert_eq!(
            streams,
            vec![
                None,
                Some("CountStream"),
                None,
                Some("ChatStream"),
                None,
                None
            ]
        );
        let now = &svc.methods[4];
        assert_eq!(now.input, "google.protobuf.Empty");
        assert_eq!(now.output, "google.protobuf.Timestamp");
        assert_eq!(svc.methods[5].input, "greet.v1.Rich.Inner");
        assert!(StreamingKind::Bidi.client_streaming() && StreamingKind::Bidi.server_streaming());
        assert!(!StreamingKind::ServerStream.client_streaming());
    }

    /// Services of one name in two packages (agones' `SDK` in `agones.dev.sdk` and
    /// `agones.dev.sdk.alpha`): a path under the user's own module name (`api::sdk_client::
    /// SdkClient`) cannot tell them apart; the package the module holds can.
    #[test]
    fn a_client_of_a_service_named_in_two_packages_is_found_by_package() {
        let a = "syntax = \"proto3\";\npackage sdk.v1;\nmessage E {}\nservice SDK { rpc Ready(E) returns (E); }\n";
        let b = "syntax = \"proto3\";\npackage sdk.v1.alpha;\nmessage E {}\nservice SDK { rpc Count(E) returns (E); }\n";
        let sc = Schema::from_sources(&[("sdk.proto", a), ("alpha.proto", b)], 2).unwrap();
        let path = ["crate", "api", "sdk_client", "SdkClient"];
        assert!(
            sc.service_by_tonic_client_path(&path).is_none(),
            "ambiguous by path"
        );
        let alpha = sc
            .service_by_tonic_client_in(&path, "sdk.v1.alpha")
            .unwrap();
        assert_eq!(alpha.full_name, "sdk.v1.alpha.SDK");
        let sdk = sc.service_by_tonic_client_in(&path, "sdk.v1").unwrap();
        assert_eq!(sdk.full_name, "sdk.v1.SDK");
        assert!(sc.service_by_tonic_client_in(&path, "other").is_none());
    }

    #[test]
    fn service_lookups_by_tonic_names() {
        let sc = greet();
        let by_trait = sc.service_by_tonic_server_path(&["pb", "greeter_server", "Greeter"]);
        assert_eq!(by_trait.unwrap().full_name, "greet.v1.Greeter");
        let by_server = sc.service_by_tonic_server_path(&["greeter_server", "GreeterServer"]);
        assert_eq!(by_server.unwrap().name, "Greeter");
        let client = sc.service_by_tonic_client_path(&["greeter_client", "GreeterClient"]);
        assert_eq!(client.unwrap().name, "Greeter");
        assert!(sc
            .service_by_tonic_client_path(&["greeter_server", "GreeterClient"])
            .is_none());
        assert!(sc.service_by_tonic_server_path(&["Greeter"]).is_none());
        let n = names();
        let svc = n
            .service_by_tonic_server_path(&["http_service_server", "HttpService"])
            .unwrap();
        assert_eq!(svc.name, "HTTPService");
        assert_eq!(svc.connect_trait, "HttpService");
        assert_eq!(svc.connect_client, "HttpServiceClient");
        assert_eq!(svc.connect_server, "HttpServiceServer");
        assert_eq!(svc.connect_ext, "HttpServiceExt");
        assert_eq!(svc.connect_service_name_const, "HTTP_SERVICE_SERVICE_NAME");
        let g = greet();
        let greeter = g.service("greet.v1.Greeter").unwrap();
        assert_eq!(greeter.connect_trait, "Greeter");
        assert_eq!(greeter.connect_service_name_const, "GREETER_SERVICE_NAME");
        assert_eq!(svc.methods[1].rust_name, "lower_call");
    }

    #[test]
    fn scalar_fields_and_labels() {
        let sc = greet();
        let rich = sc.message("greet.v1.Rich").unwrap();
        let k = |n: &str| rich.field(n).unwrap().kind.clone();
        assert_eq!(k("ratio"), FieldKind::Scalar(ScalarType::Double));
        assert_eq!(k("f"), FieldKind::Scalar(ScalarType::Float));
        assert_eq!(k("u32"), FieldKind::Scalar(ScalarType::Uint32));
        assert_eq!(k("u64"), FieldKind::Scalar(ScalarType::Uint64));
        assert_eq!(k("s32"), FieldKind::Scalar(ScalarType::Sint32));
        assert_eq!(k("s64"), FieldKind::Scalar(ScalarType::Sint64));
        assert_eq!(k("fx32"), FieldKind::Scalar(ScalarType::Fixed32));
        assert_eq!(k("fx64"), FieldKind::Scalar(ScalarType::Fixed64));
        assert_eq!(k("sfx32"), FieldKind::Scalar(ScalarType::Sfixed32));
        assert_eq!(k("sfx64"), FieldKind::Scalar(ScalarType::Sfixed64));
        assert_eq!(k("flag"), FieldKind::Scalar(ScalarType::Bool));
        assert_eq!(k("i32"), FieldKind::Scalar(ScalarType::Int32));
        assert_eq!(k("blob"), FieldKind::Scalar(ScalarType::Bytes));
        assert_eq!(k("tags"), FieldKind::Scalar(ScalarType::String));
        assert_eq!(rich.field("tags").unwrap().label, Label::Repeated);
        assert_eq!(rich.field("ratio").unwrap().label, Label::Implicit);
        let maybe = rich.field("maybe").unwrap();
        assert_eq!(maybe.label, Label::Optional);
        assert!(maybe.proto3_optional);
        assert_eq!(maybe.oneof, None, "synthetic oneofs are not exposed");
        assert_eq!(ScalarType::Sfixed64.rust_type(), "i64");
        assert_eq!(ScalarType::Bytes.rust_type(), "Vec<u8>");
    }

    #[test]
    fn message_enum_and_map_fields() {
        let sc = greet();
        let rich = sc.message("greet.v1.Rich").unwrap();
        let inner = rich.field("inner").unwrap();
        assert_eq!(inner.kind, FieldKind::Message("greet.v1.Rich.Inner".into()));
        assert!(inner.is_message_field());
        let color = rich.field("color").unwrap();
        assert_eq!(color.kind, FieldKind::Enum("greet.v1.Color".into()));
        assert!(color.is_enum() && !color.is_message_field());
        assert_eq!(rich.field("colors").unwrap().label, Label::Repeated);
        let mc = rich.field("maybe_color").unwrap();
        assert_eq!((mc.label, mc.proto3_optional), (Label::Optional, true));
        let list = rich.field("list").unwrap();
        assert_eq!(list.label, Label::Repeated);
        assert!(!list.is_message_field());
        assert_eq!(
            rich.field("counts").unwrap().kind,
            FieldKind::Map {
                key: ScalarType::String,
                value: Box::new(FieldKind::Scalar(ScalarType::Int64))
            }
        );
        assert_eq!(rich.field("counts").unwrap().label, Label::Map);
        let by_id = rich.field("color_by_id").unwrap();
        assert_eq!(
            by_id.kind,
            FieldKind::Map {
                key: ScalarType::Int32,
                value: Box::new(FieldKind::Enum("greet.v1.Color".into()))
            }
        );
        assert_eq!(by_id.kind.type_name(), Some("greet.v1.Color"));
        assert_eq!(
            rich.field("stamps").unwrap().kind.type_name(),
            Some("google.protobuf.Timestamp")
        );
        // Map entry messages exist but are flagged.
        let entry = sc.message("greet.v1.Rich.CountsEntry").unwrap();
        assert!(entry.is_map_entry);
        assert!(!rich.is_map_entry);
        // Cross-package message field.
        let hello = sc.message("greet.v1.HelloRequest").unwrap();
        assert_eq!(
            hello.field("meta").unwrap().kind,
            FieldKind::Message("common.Meta".into())
        );
        assert!(sc.message("common.Meta").is_some());
    }

    #[test]
    fn field_lookup_by_rust_name_including_keywords() {
        let sc = greet();
        let f = sc.field_by_rust_name("greet.v1.Rich", "r#type").unwrap();
        assert_eq!(f.name, "type");
        assert_eq!(f.prost_name, "r#type");
        assert_eq!(f.buffa_name, "r#type");
        assert_eq!(
            sc.field_by_rust_name("greet.v1.Rich", "type")
                .unwrap()
                .number,
            14
        );
        assert!(sc.field_by_rust_name("greet.v1.Rich", "nope").is_none());
        assert!(sc.field_by_rust_name("greet.v1.Nope", "type").is_none());
        let n = names();
        let g = n.message("names.v1.GetHTTPThing").unwrap();
        let fb = g.field_by_rust_name("foo_bar").unwrap();
        assert_eq!(
            (fb.prost_name.as_str(), fb.buffa_name.as_str()),
            ("foo_bar", "fooBar")
        );
        assert_eq!(g.field_by_rust_name("fooBar").unwrap().number, 2);
        let sf = g.field_by_rust_name("self_").unwrap();
        assert_eq!(
            (sf.prost_name.as_str(), sf.buffa_name.as_str()),
            ("self_", "self_")
        );
    }

    #[test]
    fn oneofs() {
        let sc = greet();
        let rich = sc.message("greet.v1.Rich").unwrap();
        assert_eq!(
            rich.oneofs.len(),
            1,
            "synthetic oneofs of optional fields are skipped"
        );
        let o = &rich.oneofs[0];
        assert_eq!(o.name, "choice");
        assert_eq!(o.prost_field, "choice");
        assert_eq!(o.prost_enum_path, s(&["rich", "Choice"]));
        assert_eq!(o.buffa_enum_path, s(&["rich", "Choice"]));
        let vs: Vec<(&str, &str)> = o
            .variants
            .iter()
            .map(|v| (v.field.as_str(), v.prost_variant.as_str()))
            .collect();
        assert_eq!(
            vs,
            vec![
                ("text", "Text"),
                ("number", "Number"),
                ("nested", "Nested"),
                ("when", "When"),
                ("choice_color", "ChoiceColor")
            ]
        );
        assert_eq!(
            o.variants[2].kind,
            FieldKind::Message("greet.v1.Rich.Inner".into())
        );
        assert_eq!(rich.field("when").unwrap().oneof.as_deref(), Some("choice"));
        assert_eq!(rich.oneof_by_rust_name("choice").unwrap().name, "choice");
        assert_eq!(
            o.variant_by_rust_name("ChoiceColor").unwrap().field,
            "choice_color"
        );
        assert!(o.variant_by_rust_name("Colour").is_none());
        let n = names();
        let g = n.message("names.v1.GetHTTPThing").unwrap();
        let h = &g.oneofs[0];
        assert_eq!(h.prost_field, "http_choice");
        assert_eq!(h.buffa_field, "HTTPChoice");
        assert_eq!(h.prost_enum_path, s(&["get_http_thing", "HttpChoice"]));
        assert_eq!(h.buffa_enum_path, s(&["get_http_thing", "HTTPChoice"]));
        assert_eq!(h.variants[1].prost_variant, "HttpCode");
        assert_eq!(h.variants[1].buffa_variant, "HTTPCode");
        assert_eq!(
            h.variant_by_rust_name("HttpCode").unwrap().field,
            "HTTPCode"
        );
        // A oneof named like a nested type gets prost's `OneOf` suffix.
        let kind = n.message("names.v1.Holder").unwrap();
        assert_eq!(kind.oneofs[0].prost_enum_path, s(&["holder", "KindOneOf"]));
    }

    #[test]
    fn nested_types_paths() {
        let sc = greet();
        let inner = sc.message("greet.v1.Rich.Inner").unwrap();
        assert_eq!(inner.parent.as_deref(), Some("greet.v1.Rich"));
        assert_eq!(inner.prost_path, s(&["rich", "Inner"]));
        assert_eq!(inner.buffa_path, s(&["rich", "Inner"]));
        let mode = sc.enum_("greet.v1.Rich.Inner.Mode").unwrap();
        assert_eq!(mode.prost_path, s(&["rich", "inner", "Mode"]));
        assert_eq!(mode.values[1].prost_variant.as_deref(), Some("Fast"));
    }

    #[test]
    fn odd_names() {
        let n = names();
        let get = n.message("names.v1.GetHTTPThing").unwrap();
        assert_eq!(get.prost_path, s(&["GetHttpThing"]));
        assert_eq!(get.buffa_path, s(&["GetHTTPThing"]));
        let xml = n.message("names.v1.GetHTTPThing.XMLPart").unwrap();
        assert_eq!(xml.prost_path, s(&["get_http_thing", "XmlPart"]));
        assert_eq!(xml.buffa_path, s(&["get_http_thing", "XMLPart"]));
        let lower = n.message("names.v1.lower_snake_msg").unwrap();
        assert_eq!(lower.prost_path, s(&["LowerSnakeMsg"]));
        assert_eq!(lower.buffa_path, s(&["lower_snake_msg"]));
        let fb = n.message("names.v1.Foo_Bar").unwrap();
        assert_eq!(fb.prost_path, s(&["FooBar"]));
        assert_eq!(fb.buffa_path, s(&["Foo_Bar"]));
        let http = n.message("names.v1.HTTPRequest").unwrap();
        assert_eq!(http.prost_path, s(&["HttpRequest"]));
        assert_eq!(http.buffa_path, s(&["HTTPRequest"]));
        let baz = n.message("names.v1.Foo2Bar.Baz").unwrap();
        assert_eq!(baz.prost_path, s(&["foo2_bar", "Baz"]));
        assert_eq!(baz.buffa_path, s(&["foo2bar", "Baz"]));
    }

    #[test]
    fn enums_and_variants() {
        let sc = greet();
        let color = sc.enum_("greet.v1.Color").unwrap();
        assert!(!color.closed);
        let v: Vec<(&str, Option<&str>, &str, Option<&str>)> = color
            .values
            .iter()
            .map(|v| {
                (
                    v.name.as_str(),
                    v.prost_variant.as_deref(),
                    v.buffa_variant.as_str(),
                    v.buffa_alias.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            v,
            vec![
                (
                    "COLOR_UNSPECIFIED",
                    Some("Unspecified"),
                    "COLOR_UNSPECIFIED",
                    Some("Unspecified")
                ),
                ("COLOR_RED", Some("Red"), "COLOR_RED", Some("Red")),
                (
                    "COLOR_DARK_BLUE",
                    Some("DarkBlue"),
                    "COLOR_DARK_BLUE",
                    Some("DarkBlue")
                ),
            ]
        );
        assert_eq!(color.value_by_rust_variant("DarkBlue").unwrap().number, 2);
        assert_eq!(color.value_by_rust_variant("COLOR_RED").unwrap().number, 1);
        assert!(color.value_by_rust_variant("Blue").is_none());
        let n = names();
        let level = n.enum_("names.v1.Level").unwrap();
        assert_eq!(level.values[2].prost_variant.as_deref(), Some("Http2"));
        assert_eq!(level.values[2].buffa_alias.as_deref(), Some("Http2"));
        let mixed = n.enum_("names.v1.Mixed").unwrap();
        assert_eq!(
            mixed.values[0].prost_variant.as_deref(),
            Some("Unspecified")
        );
        assert_eq!(
            mixed.values[0].buffa_alias.as_deref(),
            Some("MixedUnspecified")
        );
        let aliased = n.enum_("names.v1.Aliased").unwrap();
        assert_eq!(aliased.values[2].name, "ALIASED_UNO");
        assert_eq!(
            aliased.values[2].prost_variant, None,
            "prost skips alias duplicates"
        );
        assert_eq!(aliased.values[2].buffa_variant, "ALIASED_UNO");
    }

    #[test]
    fn proto2_labels_and_closed_enums() {
        let sc = load(&["legacy/old.proto"]);
        let old = sc.message("legacy.Old").unwrap();
        assert_eq!(old.field("id").unwrap().label, Label::Required);
        let count = old.field("count").unwrap();
        assert_eq!(count.label, Label::Optional);
        assert!(!count.proto3_optional);
        assert_eq!(old.field("values").unwrap().label, Label::Repeated);
        let kind = sc.enum_("legacy.Old.Kind").unwrap();
        assert!(kind.closed);
        assert_eq!(kind.prost_path, s(&["old", "Kind"]));
        assert_eq!(sc.files[0].syntax, ProtoSyntax::Proto2);
        assert!(!sc.uses_wkt());
    }

    #[test]
    fn wkt_uses() {
        let sc = greet();
        assert!(sc.uses_wkt());
        assert_eq!(
            sc.wkt_uses,
            s(&[
                "google.protobuf.Empty",
                "google.protobuf.StringValue",
                "google.protobuf.Timestamp"
            ])
        );
        assert!(
            sc.message("google.protobuf.Timestamp").is_none(),
            "WKTs are not listed"
        );
        assert!(is_wkt(".google.protobuf.Any"));
        assert!(!is_wkt("google.protobufx.Any"));
        assert!(!names().uses_wkt());
        assert!(sc.descriptor_type_uses.is_empty());
        let d = Schema::from_sources(
            &[(
                "d.proto",
                "syntax = \"proto3\"; package d; import \"google/protobuf/descriptor.proto\"; \
                 import \"google/protobuf/struct.proto\"; \
                 message M { google.protobuf.FileDescriptorProto f = 1; google.protobuf.Value v = 2; \
                 google.protobuf.NullValue n = 3; }",
            )],
            1,
        )
        .unwrap();
        assert_eq!(
            d.descriptor_type_uses,
            s(&["google.protobuf.FileDescriptorProto"])
        );
        assert_eq!(
            d.wkt_uses,
            s(&["google.protobuf.NullValue", "google.protobuf.Value"])
        );
    }

    #[test]
    fn lookup_by_rust_path() {
        let sc = greet();
        assert_eq!(
            sc.message_by_rust_path(&["pb", "HelloRequest"])
                .unwrap()
                .full_name,
            "greet.v1.HelloRequest"
        );
        assert_eq!(
            sc.message_by_rust_path(&["crate", "pb", "rich", "Inner"])
                .unwrap()
                .full_name,
            "greet.v1.Rich.Inner"
        );
        assert_eq!(
            sc.message_by_rust_path(&["greet", "v1", "Rich"])
                .unwrap()
                .full_name,
            "greet.v1.Rich"
        );
        assert!(sc.message_by_rust_path(&["pb", "Nope"]).is_none());
        assert!(
            sc.message_by_rust_path(&["pb", "Color"]).is_none(),
            "an enum, not a message"
        );
        assert_eq!(
            sc.enum_by_rust_path(&["pb", "Color"]).unwrap().name,
            "Color"
        );
        let (e, v) = sc
            .enum_value_by_rust_path(&["pb", "Color", "DarkBlue"])
            .unwrap();
        assert_eq!((e.name.as_str(), v.number), ("Color", 2));
        let items = sc.items_by_rust_path(&["pb", "rich", "Choice"]);
        assert!(
            matches!(items.as_slice(), [Item::Oneof(m, o)] if m.name == "Rich" && o.name == "choice")
        );
        assert_eq!(
            sc.enum_by_rust_path(&["rich", "inner", "Mode"])
                .unwrap()
                .full_name,
            "greet.v1.Rich.Inner.Mode"
        );
        let n = names();
        assert_eq!(
            n.message_by_rust_path(&["pb", "get_http_thing", "XmlPart"])
                .unwrap()
                .name,
            "XMLPart"
        );
        assert_eq!(
            n.message_by_rust_path(&["pb", "FooBar"]).unwrap().name,
            "Foo_Bar"
        );
        // buffa's spelling resolves too (code step 1 already rewrote).
        assert_eq!(
            n.message_by_rust_path(&["pb", "Foo_Bar"]).unwrap().name,
            "Foo_Bar"
        );
        assert_eq!(
            n.message_by_rust_path(&["get_http_thing", "XMLPart"])
                .unwrap()
                .full_name,
            "names.v1.GetHTTPThing.XMLPart"
        );
        let items = n.items_by_rust_path(&["get_http_thing", "HTTPChoice"]);
        assert!(matches!(items.as_slice(), [Item::Oneof(_, o)] if o.name == "HTTPChoice"));
    }

    #[test]
    fn lookup_prefers_matching_package_and_reports_ambiguity() {
        let a = "syntax = \"proto3\"; package a.v1; message Thing { int32 x = 1; }";
        let b = "syntax = \"proto3\"; package b.v1; message Thing { int32 y = 1; }";
        let sc = Schema::from_sources(&[("a.proto", a), ("b.proto", b)], 2).unwrap();
        assert_eq!(sc.items_by_rust_path(&["pb", "Thing"]).len(), 2);
        assert!(sc.message_by_rust_path(&["pb", "Thing"]).is_none());
        assert_eq!(
            sc.message_by_rust_path(&["b", "v1", "Thing"])
                .unwrap()
                .full_name,
            "b.v1.Thing"
        );
        assert_eq!(sc.message_by_rust_path(&["v1", "Thing"]), None);
    }

    #[test]
    fn buffa_deconflicts_nested_modules_from_sub_packages() {
        let sc = load(&["deconf/a.proto", "deconf/sub/b.proto"]);
        let inner = sc.message("deconf.Sub.Inner").unwrap();
        assert_eq!(inner.prost_path, s(&["sub", "Inner"]));
        // `sub` is the sub-package's module and `sub_` the plain module of `Sub_`.
        assert_eq!(inner.buffa_path, s(&["sub__", "Inner"]));
        assert_eq!(
            sc.enum_("deconf.Sub.Mode").unwrap().buffa_path,
            s(&["sub__", "Mode"])
        );
        let sub = sc.message("deconf.Sub").unwrap();
        assert_eq!(sub.oneofs[0].buffa_enum_path, s(&["sub__", "K"]));
        assert_eq!(sub.oneofs[0].prost_enum_path, s(&["sub", "K"]));
        assert_eq!(sub.buffa_path, s(&["Sub"]));
        let deep = sc.message("deconf.Sub_.Deep").unwrap();
        assert_eq!(deep.buffa_path, s(&["sub_", "Deep"]));
        assert_eq!(sc.message("deconf.sub.X").unwrap().buffa_path, s(&["X"]));
        let diffs: Vec<String> = sc
            .name_differences()
            .into_iter()
            .map(|d| d.full_name)
            .collect();
        assert!(diffs.contains(&"deconf.Sub.Inner".to_string()), "{diffs:?}");
        // Without the sub-package there is nothing to deconflict.
        let alone = Schema::from_sources(
            &[(
                "a.proto",
                "syntax = \"proto3\"; package deconf; message Sub { message Inner {} }",
            )],
            1,
        )
        .unwrap();
        assert_eq!(
            alone.message("deconf.Sub.Inner").unwrap().buffa_path,
            s(&["sub", "Inner"])
        );
    }

    #[test]
    fn packages_with_dots_and_keywords() {
        let p = "syntax = \"proto3\"; package acme.type.v2; service Svc { rpc Do(Req) returns (Req); } message Req {}";
        let sc = Schema::from_sources(&[("p.proto", p)], 1).unwrap();
        let pkg = sc.package("acme.type.v2").unwrap();
        assert_eq!(pkg.prost_module, s(&["acme", "r#type", "v2"]));
        assert_eq!(pkg.buffa_module, s(&["acme", "r#type", "v2"]));
        assert_eq!(
            sc.message_by_rust_path(&["acme", "r#type", "v2", "Req"])
                .unwrap()
                .full_name,
            "acme.type.v2.Req"
        );
        assert!(sc.packages_needing_exact_paths().is_empty());
        assert_eq!(pkg.tonic_file(), "acme.r#type.v2.rs");
        assert_eq!(
            greet().package("greet.v1").unwrap().tonic_file(),
            "greet.v1.rs"
        );
    }

    #[test]
    fn name_differences_list_exact_extern_paths() {
        let n = names();
        let diffs = n.name_differences();
        let rpc: Vec<(&str, bool)> = diffs
            .iter()
            .map(|d| (d.full_name.as_str(), d.used_by_rpc))
            .collect();
        assert!(rpc.contains(&("names.v1.GetHTTPThing", true)));
        assert!(rpc.contains(&("names.v1.GetHTTPThing.XMLPart", true)));
        assert!(rpc.contains(&("names.v1.lower_snake_msg", true)));
        assert!(rpc.contains(&("names.v1.Foo_Bar", true)));
        assert!(rpc.contains(&("names.v1.HTTPRequest", false)));
        assert!(!rpc.iter().any(|(n, _)| n.ends_with("Entry")));
        let xml = diffs
            .iter()
            .find(|d| d.full_name == "names.v1.GetHTTPThing.XMLPart")
            .unwrap();
        assert_eq!(
            xml.extern_path("crate::connect::names::v1"),
            (
                ".names.v1.GetHTTPThing.XMLPart".to_string(),
                "crate::connect::names::v1::get_http_thing::XMLPart".to_string()
            )
        );
        // Canonical names need nothing.
        assert!(greet().name_differences().is_empty());
    }
}
