//! Step 1 rewrite: one codegen call turned into its connectrpc-build + tonic-prost-build pair.

use std::collections::BTreeSet;

use super::*;

/// Settings of the step 1 rewrite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step1Config {
    /// Rust path of the module holding connectrpc-build's include file (`_connectrpc.rs`).
    pub connect_module: String,
    /// The tonic codec for buffa messages.
    pub codec_path: String,
    /// Sub-directory of `OUT_DIR` for connectrpc-build.
    pub connect_subdir: String,
    /// Sub-directory of `OUT_DIR` for tonic's stubs, unless the call sets its own `out_dir`;
    /// `None`: the root of `OUT_DIR`, tonic's own place (the build script reads them there,
    /// [`super::BuildRsScan::post_processing`]).
    pub tonic_subdir: Option<String>,
    /// connectrpc-build's include file.
    pub include_file: String,
    /// `Eq` / `Hash` derives the code needs on messages: `(CodeGenConfig list, proto path,
    /// attribute)` (`message_attributes`, `.pkg.Point`, `#[derive(Eq, Hash)]`); they need
    /// `preserve_unknown_fields = false`.
    pub message_derives: Vec<(String, String, String)>,
}

impl Default for Step1Config {
    fn default() -> Self {
        Step1Config {
            connect_module: "crate::connect".into(),
            codec_path: "connect_shim::codec::BuffaCodec".into(),
            connect_subdir: "connect".into(),
            tonic_subdir: Some("tonic".into()),
            include_file: "_connectrpc.rs".into(),
            message_derives: Vec::new(),
        }
    }
}

/// The step 1 rewrite of one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step1BuildRs {
    /// Replacement for [`CodegenCall::stmt_range`]; `None` when the call cannot be rewritten
    /// (see `notes`). The [`CodegenCall::setup_stmts`] are to be deleted with it.
    pub replacement: Option<String>,
    /// Things the user must know or do, one sentence each.
    pub notes: Vec<String>,
    /// Crates the new `build.rs` needs in `[build-dependencies]` (`connectrpc-build`,
    /// `tonic-prost-build`, `buffa-codegen` when a repr option moved).
    pub build_dependencies: Vec<&'static str>,
    /// Crates the generated code needs in `[dependencies]`: `connectrpc`, `buffa`, `serde`
    /// (the generated proto3-JSON impls name `::serde`), `connect-shim` (the codec), `tonic`,
    /// and `buffa-types` when the schema uses well-known types (checked by building the
    /// generated code).
    pub dependencies: Vec<&'static str>,
    /// Where tonic's stubs are written, relative to `OUT_DIR` (`tonic`), or `None` when the call
    /// keeps its own `out_dir`: the module's `include!` must read them from there.
    pub tonic_out_subdir: Option<String>,
}

/// Replacement text for the call's statement (see [`plan_step1_build_rs`]); the original
/// statement text when the call cannot be rewritten.
pub fn generate_step1_build_rs_edit(call: &CodegenCall, schema: &Schema) -> String {
    generate_step1_build_rs_edit_with(call, schema, &Step1Config::default())
}

/// [`generate_step1_build_rs_edit`] with explicit settings. `src` is not needed: the call
/// carries every piece of source text it reuses.
pub fn generate_step1_build_rs_edit_with(
    call: &CodegenCall,
    schema: &Schema,
    cfg: &Step1Config,
) -> String {
    plan_step1_build_rs(call, schema, cfg)
        .replacement
        .unwrap_or_else(|| original_statement(call))
}

pub(super) fn original_statement(call: &CodegenCall) -> String {
    call.stmt_source.clone()
}

/// One level of indentation in the generated chains.
const I1: &str = "    ";

/// Plans the step 1 rewrite of one call: connectrpc-build into `OUT_DIR/<connect>`, then
/// tonic-prost-build with `extern_path` per package (plus exact entries for differently spelled
/// RPC types), WKTs to `buffa-types`, `codec_path` to the buffa codec, and the original options
/// kept, moved to buffa's config, or reported.
pub fn plan_step1_build_rs(call: &CodegenCall, schema: &Schema, cfg: &Step1Config) -> Step1BuildRs {
    if let Some(why) = refusal(call) {
        return Step1BuildRs {
            replacement: None,
            notes: vec![why],
            build_dependencies: vec![],
            dependencies: vec![],
            tonic_out_subdir: None,
        };
    }
    let mut plan = Planner {
        call,
        schema,
        cfg,
        notes: unresolved_path_notes(call),
        deps: vec!["connectrpc-build", "tonic-prost-build"],
    };
    let mut runtime: Vec<&'static str> =
        vec!["connectrpc", "buffa", "serde", "connect-shim", "tonic"];
    let args = argument_texts(call);
    let mut sorted = plan.sort_options();
    let user_derives = call.options.iter().any(|o| {
        matches!(o.class, OptionClass::MovesToBuffa(_))
            && o.args.get(1).is_some_and(|a| derives_eq_or_hash(&a.source))
    });
    let derives = derive_lines(&cfg.message_derives, user_derives);
    sorted.buffa_cfg.splice(0..0, derives);
    let connect = plan.connect_chain(&args, sorted.buffa_cfg, sorted.connect);
    let tonic = plan.tonic_chain(&args, sorted.tonic, sorted.tonic_out_subdir.as_deref());
    if schema.uses_wkt() {
        runtime.push("buffa-types");
    }
    let connect_ending = plan.connect_ending();
    let text = render_statement(
        call,
        &connect,
        &tonic,
        &connect_ending,
        sorted.tonic_out_subdir.as_deref(),
    );
    plan.closing_notes(sorted.tonic_out_subdir.as_deref());
    Step1BuildRs {
        replacement: Some(text),
        notes: plan.notes,
        build_dependencies: plan.deps,
        dependencies: runtime,
        tonic_out_subdir: sorted.tonic_out_subdir,
    }
}

/// The buffa config statements of [`Step1Config::message_derives`]: unknown fields dropped
/// (their member is not `Eq`; prost never kept them), then one attribute per message.
/// `user_derives`: an attribute of the user's derives `Eq` / `Hash` / `Ord`, which needs the same.
fn derive_lines(derives: &[(String, String, String)], user_derives: bool) -> Vec<String> {
    if derives.is_empty() && !user_derives {
        return vec![];
    }
    let mut lines = vec![
        "// `Eq` / `Hash` on messages (map keys, `Eq` / `Hash` types, derive attributes; prost"
            .to_string(),
        "// derived them): buffa derives them only without the unknown-fields member, which"
            .to_string(),
        "// prost never kept either.".to_string(),
        "config.preserve_unknown_fields = false;".to_string(),
    ];
    for (list, path, attr) in derives {
        lines.push(format!(
            "config.{list}.push(({path:?}.into(), {attr:?}.into()));"
        ));
    }
    lines
}

/// Why the call is not rewritten at all: already migrated, generated from a descriptor set
/// value, or its `.proto` files unknown.
fn refusal(call: &CodegenCall) -> Option<String> {
    if call.already_step1 {
        return Some("already on buffa messages (step 1 was applied); left unchanged".into());
    }
    if call.entry.is_fds() {
        return Some(
            "tonic generates from a FileDescriptorSet value: write it to a file and give \
             connectrpc-build `.descriptor_set(path)` with proto-relative `.files(..)`; \
             this call is not rewritten"
                .into(),
        );
    }
    if let Some(why) = &call.protos.unresolved {
        // A named list we could not enumerate is still usable as source text for both builders.
        if call.protos.source.is_empty() {
            return Some(format!("the .proto files cannot be determined: {why}"));
        }
    }
    if call.entry == Entry::CompileProtosFn {
        if let Some(PathValue::Unresolved(why)) = call.protos.items.first().map(|i| &i.value) {
            return Some(format!(
                "`compile_protos({})`: the include directory is the file's parent, which \
                 cannot be determined ({why}); rewrite by hand",
                call.protos.source
            ));
        }
    }
    None
}

/// The path lists and items reused as written but not readable by the schema step.
fn unresolved_path_notes(call: &CodegenCall) -> Vec<String> {
    let mut notes = vec![];
    for list in [&call.protos, &call.includes] {
        if let Some(why) = &list.unresolved {
            notes.push(format!(
                "`{}` is reused as written, but the schema step cannot read it: {why}",
                list.source
            ));
        }
        for i in &list.items {
            if let PathValue::Unresolved(why) = &i.value {
                notes.push(format!(
                    "`{}` cannot be resolved statically: {why}",
                    i.source
                ));
            }
        }
    }
    notes
}

/// The `.proto` files and include directories as argument texts for both builders.
struct ArgTexts {
    files: String,
    includes: String,
}

/// Argument texts for both builders; multi-line ones re-indented to the chain's level
/// (relative to the statement: [`render_statement`] adds the statement's indentation).
fn argument_texts(call: &CodegenCall) -> ArgTexts {
    let (files, includes) = match call.entry {
        Entry::CompileProtosFn => {
            let file = call.protos.items[0].literal().unwrap_or_default();
            let inc = call.includes.items[0].literal().unwrap_or_default();
            (format!("&[{file:?}]"), format!("&[{inc:?}]"))
        }
        _ => (
            slice_text(&reindent(&call.protos.source, &call.protos.base_indent, I1)),
            slice_text(&reindent(
                &call.includes.source,
                &call.includes.base_indent,
                I1,
            )),
        ),
    };
    ArgTexts { files, includes }
}

/// The call's options sorted by where they go.
struct SortedOptions {
    /// Lines of the connectrpc-build chain mirrored from tonic options.
    connect: Vec<String>,
    /// Lines kept on the tonic-prost-build chain (options and their comments).
    tonic: Vec<String>,
    /// Statements of the buffa `CodeGenConfig` block.
    buffa_cfg: Vec<String>,
    /// `OUT_DIR` sub-directory for tonic's stubs; `None` when the call keeps its `out_dir`.
    tonic_out_subdir: Option<String>,
}

/// One option's text as it is written on the new chains.
struct OptionText<'o> {
    option: &'o CodegenOption,
    /// Its arguments re-indented to the chain's level.
    args: Vec<String>,
    /// Its arguments re-indented one level deeper (inside the buffa config block).
    deep: Vec<String>,
    /// `.name(args)`.
    kept: String,
    /// ` // comment` after it on its line, or empty.
    trailing: String,
}

impl<'o> OptionText<'o> {
    fn new(o: &'o CodegenOption) -> Self {
        let args: Vec<String> = o
            .args
            .iter()
            .map(|a| reindent(&a.source, &a.base_indent, I1))
            .collect();
        let deep: Vec<String> = o
            .args
            .iter()
            .map(|a| reindent(&a.source, &a.base_indent, &format!("{I1}{I1}")))
            .collect();
        let kept = format!(".{}({})", o.name, args.join(", "));
        let trailing = o
            .trailing_comment
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        OptionText {
            option: o,
            args,
            deep,
            kept,
            trailing,
        }
    }
}

/// The planning of one call's rewrite, collecting notes and build dependencies as it goes.
struct Planner<'a> {
    call: &'a CodegenCall,
    schema: &'a Schema,
    cfg: &'a Step1Config,
    notes: Vec<String>,
    deps: Vec<&'static str>,
}

impl Planner<'_> {
    /// Sorts every option of the call to the chain (or buffa config) it goes to.
    fn sort_options(&mut self) -> SortedOptions {
        let mut out = SortedOptions {
            connect: vec![],
            tonic: vec![],
            buffa_cfg: vec![],
            tonic_out_subdir: self.cfg.tonic_subdir.clone(),
        };
        for o in &self.call.options {
            self.sort_option(&OptionText::new(o), &mut out);
        }
        out
    }

    fn sort_option(&mut self, ot: &OptionText<'_>, out: &mut SortedOptions) {
        let o = ot.option;
        let (kept, trailing) = (&ot.kept, &ot.trailing);
        if let Some(n) = &o.note {
            self.notes.push(format!("`.{}(..)`: {n}", o.name));
        }
        // Comments go where the option goes; those of dropped options are listed.
        match &o.class {
            OptionClass::KeepOnTonic | OptionClass::KeepOnTonicAndConnect(_) => {
                out.tonic.extend(o.comments.iter().cloned())
            }
            OptionClass::MovesToBuffa(_) => out
                .buffa_cfg
                .extend(o.comments.iter().chain(&o.trailing_comment).cloned()),
            OptionClass::Replaced(_) | OptionClass::Reported(_) => {
                for c in o.comments.iter().chain(&o.trailing_comment) {
                    self.notes.push(format!(
                        "the comment `{c}` above `{kept}` is dropped with it"
                    ));
                }
            }
        }
        match &o.class {
            OptionClass::KeepOnTonic => {
                if o.name == "out_dir" {
                    out.tonic_out_subdir = None;
                }
                out.tonic.push(format!("{kept}{trailing}"));
            }
            OptionClass::KeepOnTonicAndConnect(what) => {
                out.tonic.push(format!("{kept}{trailing}"));
                match what.as_str() {
                    "emit_descriptor_set" => match &self.call.descriptor_set_file {
                        Some(file) => {
                            out.connect.push(format!(".emit_descriptor_set({file:?})"));
                        }
                        None => self.notes.push(format!(
                            "`.file_descriptor_set_path({})`: the file name is not a literal, \
                             so connectrpc-build emits no descriptor set; add \
                             `.emit_descriptor_set(\"<name>.bin\")` if the connect side needs one",
                            ot.args.join(", ")
                        )),
                    },
                    other => out
                        .connect
                        .push(format!(".{other}({})", ot.args.join(", "))),
                }
            }
            OptionClass::MovesToBuffa(_) => match o.name.as_str() {
                "type_attribute" | "message_attribute" | "enum_attribute" | "field_attribute" => {
                    let lines = self.buffa_attribute(ot);
                    out.buffa_cfg.extend(lines);
                }
                "bytes" | "btree_map" | "boxed" => {
                    let lines = self.buffa_repr(ot);
                    out.buffa_cfg.extend(lines);
                    if !self.deps.contains(&"buffa-codegen") {
                        self.deps.push("buffa-codegen");
                    }
                }
                _ => self
                    .notes
                    .push(format!("`{kept}` has no automatic buffa translation")),
            },
            OptionClass::Replaced(_) => {}
            OptionClass::Reported(why) => self.notes.push(format!("`{kept}` is dropped: {why}")),
        }
    }

    /// `type_attribute` & co as pushes onto buffa's attribute lists.
    fn buffa_attribute(&mut self, ot: &OptionText<'_>) -> Vec<String> {
        let o = ot.option;
        let kept = &ot.kept;
        let field = match o.name.as_str() {
            "type_attribute" => "type_attributes",
            "message_attribute" => "message_attributes",
            "enum_attribute" => "enum_attributes",
            _ => "field_attributes",
        };
        let (p, a) = (
            ot.deep.first().map(String::as_str).unwrap_or("\".\""),
            ot.deep.get(1).map(String::as_str).unwrap_or("\"\""),
        );
        // prost matches a path without a leading dot as a suffix of the full name;
        // buffa only matches fully-qualified prefixes, so spell out each match.
        let suffix = syn::parse_str::<syn::LitStr>(p)
            .ok()
            .map(|l| l.value())
            .filter(|v| !v.starts_with('.'));
        let Some(sfx) = suffix else {
            return vec![format!("config.{field}.push(({p}.into(), {a}.into()));")];
        };
        let hits = suffix_matches(self.schema, &sfx, o.name == "field_attribute");
        if hits.is_empty() {
            self.notes.push(format!(
                "`{kept}`: prost matches `{sfx}` as a name suffix and no \
                 type of the schema ends with it; buffa needs a \
                 fully-qualified `.package.Type` path"
            ));
        }
        hits.into_iter()
            .map(|h| format!("config.{field}.push(({h:?}.into(), {a}.into()));"))
            .collect()
    }

    /// `bytes`, `btree_map` and `boxed` as entries of buffa's representation lists.
    fn buffa_repr(&mut self, ot: &OptionText<'_>) -> Vec<String> {
        let o = ot.option;
        let kept = &ot.kept;
        let (field, repr) = match o.name.as_str() {
            "bytes" => ("bytes_fields", "buffa_codegen::BytesRepr::Bytes"),
            "btree_map" => ("map_fields", "buffa_codegen::MapRepr::BTreeMap"),
            _ => ("pointer_fields", "buffa_codegen::PointerRepr::Box"),
        };
        let paths = ot.deep.first().map(String::as_str).unwrap_or("[\".\"]");
        let mut lines = vec![];
        match literal_strings(paths) {
            // Literal paths: one entry each, prost's suffix paths spelled out.
            Some(lits) => {
                for lit in lits {
                    let full = if lit.starts_with('.') {
                        vec![lit.clone()]
                    } else {
                        suffix_matches(self.schema, &lit, true)
                    };
                    if full.is_empty() {
                        self.notes.push(format!(
                            "`{kept}`: prost matches `{lit}` as a name suffix and no \
                             field of the schema ends with it"
                        ));
                    }
                    for f in full {
                        lines.push(format!("config.{field}.push(({f:?}.into(), {repr}));"));
                    }
                }
            }
            None if o.name == "boxed" => {
                lines.push(format!("config.{field}.push(({paths}.to_string(), {repr}));"))
            }
            None => lines.push(format!(
                "config.{field}.extend(IntoIterator::into_iter({paths}).map(|path| (path.to_string(), {repr})));"
            )),
        }
        lines
    }

    /// The connectrpc-build chain, one element per line.
    fn connect_chain(
        &self,
        args: &ArgTexts,
        buffa_cfg: Vec<String>,
        connect: Vec<String>,
    ) -> Vec<String> {
        let mut c = vec!["connectrpc_build::Config::new()".to_string()];
        if !buffa_cfg.is_empty() {
            let mut b = String::from(".buffa_config({\n");
            b.push_str(&format!(
                "{I1}{I1}let mut config = connectrpc_build::CodeGenConfig::default();\n"
            ));
            b.push_str(&format!("{I1}{I1}config.generate_json = true;\n"));
            for l in &buffa_cfg {
                b.push_str(&format!("{I1}{I1}{l}\n"));
            }
            b.push_str(&format!("{I1}{I1}config\n{I1}}})"));
            c.push(b);
        }
        c.push(format!(".files({})", args.files));
        let imports = self.imported_files();
        if !imports.is_empty() {
            if imports.len() <= 2 {
                c.push(format!(".files(&[{}])", imports.join(", ")));
            } else {
                let mut f = String::from(".files(&[\n");
                for i in &imports {
                    f.push_str(&format!("{I1}{I1}{i},\n"));
                }
                f.push_str(&format!("{I1}])"));
                c.push(f);
            }
        }
        c.push(format!(".includes({})", args.includes));
        c.push(format!(
            ".out_dir({}.join({:?}))",
            self.call.out_dir_ident, self.cfg.connect_subdir
        ));
        c.push(format!(".include_file({:?})", self.cfg.include_file));
        c.extend(connect);
        c.push(".compile()".into());
        c
    }

    /// The imported `.proto` files buffa must be given, as string literals.
    ///
    /// prost generates the imported packages too (protoc runs with `--include_imports`); buffa
    /// generates only the files it is given: name the imported ones (proto-relative, found
    /// through the includes), well-known types excepted (buffa-types has them).
    /// connectrpc-build strips an include prefix from each file to name it: write each import
    /// as `<include>/<name>`, with the include it is found under.
    fn imported_files(&self) -> Vec<String> {
        self.schema
            .files
            .iter()
            .filter(|f| {
                f.is_import && f.package != WKT_PACKAGE && !f.name.starts_with("google/protobuf/")
            })
            .filter_map(|f| {
                self.call
                    .includes
                    .items
                    .iter()
                    .find_map(|inc| match &inc.value {
                        PathValue::Resolved { literal, path } if path.join(&f.name).is_file() => {
                            Some(format!(
                                "{:?}",
                                format!("{}/{}", literal.trim_end_matches('/'), f.name)
                            ))
                        }
                        _ => None,
                    })
            })
            .collect()
    }

    /// The tonic-prost-build chain, one element per line: the kept options, the out dir, the
    /// extern paths to the buffa types, WKTs, the codec and the entry call.
    fn tonic_chain(
        &mut self,
        args: &ArgTexts,
        kept: Vec<String>,
        tonic_out_subdir: Option<&str>,
    ) -> Vec<String> {
        let (call, schema) = (self.call, self.schema);
        let mut t = vec!["tonic_prost_build::configure()".to_string()];
        t.extend(kept);
        if let Some(sub) = tonic_out_subdir {
            t.push(format!(".out_dir({}.join({sub:?}))", call.out_dir_ident));
        }
        let rpc = schema.rpc_types();
        t.extend(self.extern_paths(&rpc));
        for p in schema.packages.iter().filter(|p| p.only_imported) {
            if rpc
                .iter()
                .any(|r| schema.message(r).is_some_and(|m| m.package == p.name))
            {
                self.notes.push(format!(
                    "RPC types of package `{}` come from an imported file that this call does \
                     not compile; map them with an `extern_path` to where their buffa types live",
                    p.name
                ));
            }
        }
        if !schema.descriptor_type_uses.is_empty() {
            self.notes.push(format!(
                "the schema uses descriptor types ({}) that buffa-types does not provide: map \
                 each with an exact `extern_path` to buffa's descriptor crate and check the build",
                schema.descriptor_type_uses.join(", ")
            ));
        }
        if schema.uses_wkt() {
            t.push(".compile_well_known_types(true)".into());
            t.push(format!(
                ".extern_path({:?}, {BUFFA_TYPES_WKT_PATH:?})",
                format!(".{WKT_PACKAGE}")
            ));
        }
        t.push(format!(".codec_path({:?})", self.cfg.codec_path));
        let entry = match (call.entry, &call.config_arg) {
            (Entry::CompileWithConfig | Entry::CompileProtosWithConfig, Some(c)) => {
                self.notes.push(format!(
                    "`{}` is a prost_build::Config: its message options no longer apply \
                     (messages are buffa types now) and tonic-prost-build 0.14 needs the \
                     prost-build 0.14 `tonic_prost_build::Config`; review it",
                    c.source
                ));
                format!(
                    ".compile_with_config({}, {}, {})",
                    reindent(&c.source, &c.base_indent, I1),
                    args.files,
                    args.includes
                )
            }
            _ => format!(".compile_protos({}, {})", args.files, args.includes),
        };
        t.extend(call.entry_comments.iter().cloned());
        t.push(entry);
        t
    }

    /// `.extern_path(..)` lines: one per generated package, plus exact entries for the RPC
    /// types whose names differ or whose package needs them; the user's own entries skipped.
    fn extern_paths(&self, rpc: &BTreeSet<&str>) -> Vec<String> {
        let (call, schema) = (self.call, self.schema);
        let needs_exact: HashSet<&str> = schema
            .packages_needing_exact_paths()
            .iter()
            .map(|p| p.name.as_str())
            .collect();
        let pkg_root = |pkg: &str| -> String {
            let mut root = self.cfg.connect_module.clone();
            if let Some(p) = schema.package(pkg) {
                for s in &p.buffa_module {
                    root.push_str("::");
                    root.push_str(s);
                }
            }
            root
        };
        // Entries the user already maps (kept on the builder) must not be added twice:
        // prost-build panics on a duplicate extern path.
        let user_externs: HashSet<String> = call
            .options
            .iter()
            .filter(|o| o.name == "extern_path" && o.class == OptionClass::KeepOnTonic)
            .filter_map(|o| o.args.first().and_then(|a| first_string_literal(&a.source)))
            .collect();
        let mut t = vec![];
        for p in schema.generated_packages() {
            if p.name.is_empty()
                || needs_exact.contains(p.name.as_str())
                || user_externs.contains(&format!(".{}", p.name))
            {
                continue;
            }
            // prost-build snake-cases and keyword-escapes every segment of a prefix entry
            // itself (`type` → `r#type`), and would mangle an `r#` written here (`r#type` →
            // `r_type`).
            let root = pkg_root(&p.name).replace("r#", "");
            t.push(format!(
                ".extern_path({:?}, {root:?})",
                format!(".{}", p.name)
            ));
        }
        let mut exact: Vec<(String, String)> = vec![];
        for d in schema.name_differences().iter().filter(|d| d.used_by_rpc) {
            exact.push(d.extern_path(&pkg_root(&d.package)));
        }
        for full in rpc {
            let Some(m) = schema.message(full) else {
                continue;
            };
            if m.package.is_empty() || needs_exact.contains(m.package.as_str()) {
                let mut rust = pkg_root(&m.package);
                for s in &m.buffa_path {
                    rust.push_str("::");
                    rust.push_str(s);
                }
                let e = (format!(".{}", m.full_name), rust);
                if !exact.contains(&e) {
                    exact.push(e);
                }
            }
        }
        exact.sort();
        exact.retain(|(proto, _)| !user_externs.contains(proto));
        for (proto, rust) in &exact {
            t.push(format!(".extern_path({proto:?}, {rust:?})"));
        }
        t
    }

    /// The connectrpc-build chain's ending, matching the call's (`unwrap`, `expect`, `?` or
    /// what the enclosing function's return type allows).
    fn connect_ending(&mut self) -> String {
        let call = self.call;
        match call.ending_kind {
            EndingKind::Unwrap => ".unwrap()".to_string(),
            EndingKind::Expect => {
                let msg = first_string_literal(&format!("x{}", call.ending))
                    .unwrap_or_else(|| "connectrpc-build".into());
                format!(".expect({msg:?})")
            }
            _ => match &call.fn_return {
                FnReturn::IoResult => ".map_err(std::io::Error::other)?".to_string(),
                FnReturn::Other(ty) if !ty.contains("anyhow") && !ty.contains("Box<dyn") => {
                    self.notes.push(format!(
                        "the function returns `{ty}`: check that `?` converts connectrpc-build's \
                         `anyhow::Error` into it"
                    ));
                    "?".to_string()
                }
                FnReturn::Other(_) => "?".to_string(),
                FnReturn::Unit | FnReturn::Unknown => {
                    ".expect(\"connectrpc-build failed\")".to_string()
                }
            },
        }
    }

    /// What the user must know about the whole rewrite: the tonic upgrade, the folded builder
    /// variable, where tonic's stubs now go.
    fn closing_notes(&mut self, tonic_out_subdir: Option<&str>) {
        let call = self.call;
        if call.generation == Generation::TonicBuild {
            self.notes.push(
                "tonic 0.12/0.13 codegen moves to tonic-prost-build 0.14 (the shim runs on tonic \
                 0.14): update `tonic`, drop `tonic-build`'s prost integration, and check the \
                 `use tonic_build…` imports"
                    .into(),
            );
        }
        if !call.setup_stmts.is_empty() {
            let what = match &call.builder_var {
                Some(v) => format!("the builder variable `{v}`"),
                None => "the prost_build::Config variable".to_string(),
            };
            self.notes.push(format!(
                "{what} is folded into the new calls; its setup statements are removed"
            ));
        }
        if let Some(sub) = tonic_out_subdir {
            self.notes.push(format!(
                "tonic's stubs are now written to OUT_DIR/{sub}: the module's include must read \
                 them from there"
            ));
        }
    }
}

/// The replacement statement: the `OUT_DIR` binding (unless one exists), the connectrpc-build
/// chain, the tonic out dir's creation, and the tonic-prost-build chain.
fn render_statement(
    call: &CodegenCall,
    connect: &[String],
    tonic: &[String],
    connect_ending: &str,
    tonic_out_subdir: Option<&str>,
) -> String {
    let out = &call.out_dir_ident;
    let indent = &call.indent;
    let render = |lines: &[String], ending: &str, semi: bool| -> String {
        let mut s = lines[0].clone();
        for l in &lines[1..] {
            s.push('\n');
            s.push_str(indent);
            s.push_str(I1);
            // Multi-line pieces (the buffa config block) are indented relative to the chain.
            s.push_str(&l.replace('\n', &format!("\n{indent}")));
        }
        if call.ending_newline && ending.starts_with('.') {
            s.push('\n');
            s.push_str(indent);
            s.push_str(I1);
        }
        s.push_str(ending);
        if semi {
            s.push(';');
        }
        s
    };
    let mut text = if call.out_dir_is_existing {
        String::new()
    } else {
        format!(
            "let {out} = std::path::PathBuf::from(std::env::var(\"OUT_DIR\").expect(\"OUT_DIR is set by cargo\"));\n{indent}"
        )
    };
    text.push_str(&render(connect, connect_ending, true));
    text.push('\n');
    text.push_str(indent);
    if let Some(sub) = tonic_out_subdir {
        // prost-build writes into `out_dir` without creating it (connectrpc-build does create
        // its own).
        let ending = if connect_ending.ends_with('?') {
            "?".to_string()
        } else {
            format!(".expect(\"cannot create OUT_DIR/{sub}\")")
        };
        text.push_str(&format!(
            "std::fs::create_dir_all({out}.join({sub:?})){ending};\n{indent}"
        ));
    }
    text.push_str(&call.stmt_prefix);
    text.push_str(&render(tonic, call.ending.trim(), call.has_semi));
    text
}

/// The strings of a literal argument: `"a"`, `["a", "b"]`, `&["a"]`, `vec!["a"]`.
pub(super) fn literal_strings(source: &str) -> Option<Vec<String>> {
    fn of(e: &Expr) -> Option<Vec<String>> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(vec![s.value()]),
            Expr::Reference(r) => of(&r.expr),
            Expr::Array(a) => a
                .elems
                .iter()
                .map(|el| match el {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Str(s), ..
                    }) => Some(s.value()),
                    _ => None,
                })
                .collect(),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let elems = m
                    .mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .ok()?;
                let arr = Expr::Array(syn::ExprArray {
                    attrs: vec![],
                    bracket_token: Default::default(),
                    elems,
                });
                of(&arr)
            }
            _ => None,
        }
    }
    of(&syn::parse_str::<Expr>(source).ok()?)
}

/// Fully-qualified names (with a leading dot) of the schema's messages, enums (and, for
/// `fields`, message fields) that prost's suffix match of `suffix` selects.
pub(super) fn suffix_matches(schema: &Schema, suffix: &str, fields: bool) -> Vec<String> {
    let matches = |full: &str| full == suffix || full.ends_with(&format!(".{suffix}"));
    let mut out: Vec<String> = if fields {
        schema
            .messages
            .iter()
            .flat_map(|m| {
                m.fields
                    .iter()
                    .map(move |f| format!("{}.{}", m.full_name, f.name))
            })
            .filter(|f| matches(f))
            .collect()
    } else {
        schema
            .messages
            .iter()
            .filter(|m| !m.is_map_entry)
            .map(|m| m.full_name.clone())
            .chain(schema.enums.iter().map(|e| e.full_name.clone()))
            .filter(|n| matches(n))
            .collect()
    };
    out.sort();
    out.into_iter().map(|n| format!(".{n}")).collect()
}

/// Re-indents the continuation lines of a multi-line argument from `old_base` (the indentation
/// of the line it started on) to `new_base`, keeping relative indentation. Text with a
/// multi-line string literal is returned unchanged (its content would change).
pub(super) fn reindent(text: &str, old_base: &str, new_base: &str) -> String {
    if !text.contains('\n') || old_base == new_base {
        return text.to_string();
    }
    fn has_multiline_literal(ts: TokenStream) -> bool {
        ts.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Literal(l) => l.to_string().contains('\n'),
            proc_macro2::TokenTree::Group(g) => has_multiline_literal(g.stream()),
            _ => false,
        })
    }
    let plain = text
        .parse::<TokenStream>()
        .is_ok_and(|ts| !has_multiline_literal(ts));
    if !plain {
        return text.to_string();
    }
    let mut lines = text.split('\n');
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        if line.trim().is_empty() {
            continue;
        }
        match line.strip_prefix(old_base) {
            Some(rest) => {
                out.push_str(new_base);
                out.push_str(rest);
            }
            None => out.push_str(line.trim_start()),
        }
    }
    out
}

/// A list argument as a slice expression for connectrpc-build's `&[P]` parameters.
pub(super) fn slice_text(source: &str) -> String {
    let t = source.trim();
    if t.starts_with('[') {
        format!("&{t}")
    } else if let Some(inner) = t.strip_prefix("vec!") {
        format!("&{inner}")
    } else {
        t.to_string()
    }
}
