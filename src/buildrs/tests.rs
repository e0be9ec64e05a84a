use super::*;

const DIR: &str = "/c";

fn scan(src: &str) -> BuildRsScan {
    scan_build_rs(src, Path::new(DIR)).expect("parses")
}

fn one(src: &str) -> CodegenCall {
    let s = scan(src);
    assert_eq!(
        s.calls.len(),
        1,
        "calls: {:#?}\nunrecognised: {:#?}",
        s.calls,
        s.unrecognised
    );
    s.calls.into_iter().next().unwrap()
}

fn lits(list: &PathList) -> Vec<&str> {
    list.items
        .iter()
        .map(|i| i.literal().unwrap_or("<unresolved>"))
        .collect()
}

fn names(call: &CodegenCall) -> Vec<&str> {
    call.options.iter().map(|o| o.name.as_str()).collect()
}

fn schema(files: &[&str]) -> Schema {
    let d = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data"));
    let files: Vec<PathBuf> = files.iter().map(|f| d.join(f)).collect();
    Schema::load(&files, &[d]).unwrap()
}

fn plan(call: &CodegenCall, files: &[&str]) -> Step1BuildRs {
    plan_step1_build_rs(call, &schema(files), &Step1Config::default())
}

/// buffa generates only the files it is given; prost generated the imported packages too.
#[test]
fn imported_files_are_named_for_connectrpc_build() {
    let d = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data");
    let src = format!(
            "fn main() {{\n    tonic_prost_build::configure()\n        .compile_protos(&[\"{d}/greet/v1/greet.proto\"], &[\"{d}\"])\n        .unwrap();\n}}\n"
        );
    let c = one(&src);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let text = p.replacement.unwrap();
    // `common/types.proto` is only imported: named through the include it is found under.
    assert!(
        text.contains(&format!(".files(&[\"{d}/common/types.proto\"])")),
        "{text}"
    );
    // Well-known types are not (buffa-types has them).
    assert!(!text.contains("google/protobuf"), "{text}");
}

/// Messages the code needs `Eq` / `Hash` on: unknown fields dropped and one attribute each in
/// buffa's config; nothing of it without such messages.
#[test]
fn message_derives_go_to_the_buffa_config() {
    let c = one(
        "fn main() {\n    tonic_prost_build::configure()\n        .compile_protos(&[\"greet/v1/greet.proto\"], &[\"proto\"])\n        .unwrap();\n}\n",
    );
    let before = plan(&c, &["greet/v1/greet.proto"]).replacement.unwrap();
    assert!(!before.contains("buffa_config"), "{before}");
    let cfg = Step1Config {
        message_derives: vec![(
            "message_attributes".into(),
            ".greet.v1.HelloRequest".into(),
            "#[derive(Eq, Hash)]".into(),
        )],
        ..Step1Config::default()
    };
    let after = plan_step1_build_rs(&c, &schema(&["greet/v1/greet.proto"]), &cfg)
        .replacement
        .unwrap();
    let expected = "    connectrpc_build::Config::new()\n        .buffa_config({\n            let mut config = connectrpc_build::CodeGenConfig::default();\n            config.generate_json = true;\n";
    assert!(after.contains(expected), "{after}");
    assert!(
        after.contains("            config.preserve_unknown_fields = false;\n            config.message_attributes.push((\".greet.v1.HelloRequest\".into(), \"#[derive(Eq, Hash)]\".into()));\n            config\n        })\n"),
        "{after}"
    );
}

// ---- recognition: forms and versions ------------------------------------------------

#[test]
fn free_compile_protos_tonic_012() {
    let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::compile_protos("proto/helloworld.proto")?;
    Ok(())
}
"#;
    let c = one(src);
    assert_eq!(c.generation, Generation::TonicBuild);
    assert_eq!(c.entry, Entry::CompileProtosFn);
    assert_eq!(c.crate_path, "tonic_build");
    assert_eq!(lits(&c.protos), vec!["proto/helloworld.proto"]);
    assert_eq!(lits(&c.includes), vec!["proto"]);
    assert_eq!(
        c.protos.items[0].path(),
        Some(Path::new("/c/proto/helloworld.proto"))
    );
    assert_eq!(c.includes.items[0].path(), Some(Path::new("/c/proto")));
    assert_eq!(
        &src[c.stmt_range.clone()],
        "tonic_build::compile_protos(\"proto/helloworld.proto\")?;"
    );
    assert_eq!(
        &src[c.expr_range.clone()],
        "tonic_build::compile_protos(\"proto/helloworld.proto\")?"
    );
    assert_eq!(c.stmt_source, &src[c.stmt_range.clone()]);
    assert_eq!((c.ending.as_str(), c.ending_kind), ("?", EndingKind::Try));
    assert_eq!(c.indent, "    ");
    assert!(c.has_semi);
    assert_eq!(
        c.fn_return,
        FnReturn::Other("Result<(),Box<dynstd::error::Error>>".into())
    );
}

#[test]
fn free_compile_protos_tonic_014() {
    let c = one(r#"fn main() { tonic_prost_build::compile_protos("a/b/x.proto").unwrap(); }"#);
    assert_eq!(c.generation, Generation::TonicProstBuild);
    assert_eq!(c.entry, Entry::CompileProtosFn);
    assert_eq!(c.ending_kind, EndingKind::Unwrap);
    assert_eq!(lits(&c.includes), vec!["a/b"]);
    assert_eq!(c.fn_return, FnReturn::Unit);
}

#[test]
fn configure_compile_tonic_012_with_options() {
    let src = r#"fn main() {
    tonic_build::configure()
        .build_server(true)
        .build_client(false)
        .out_dir("src/gen")
        .compile(&["proto/a.proto", "proto/b.proto"], &["proto"])
        .unwrap();
}"#;
    let c = one(src);
    assert_eq!(c.entry, Entry::Compile);
    assert_eq!(names(&c), vec!["build_server", "build_client", "out_dir"]);
    assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
    assert_eq!(c.protos.source, r#"&["proto/a.proto", "proto/b.proto"]"#);
    assert_eq!(lits(&c.includes), vec!["proto"]);
    let o = c.option("build_server").unwrap();
    assert_eq!(&src[o.range.clone()], "build_server(true)");
    assert_eq!(o.args[0].source, "true");
    assert_eq!(&src[o.args[0].range.clone()], "true");
    assert_eq!(
        &src[c.entry_range.clone()],
        r#"compile(&["proto/a.proto", "proto/b.proto"], &["proto"])"#
    );
    assert!(
        c.option("out_dir").unwrap().note.is_some(),
        "a source-tree out_dir is noted"
    );
    assert_eq!(c.ending, ".unwrap()");
}

#[test]
fn configure_compile_protos_tonic_013() {
    let c = one(r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure().compile_protos(&["proto/x.proto"], &["proto"])?;
    Ok(())
}"#);
    assert_eq!(
        (c.generation, c.entry),
        (Generation::TonicBuild, Entry::CompileProtos)
    );
    assert!(c.options.is_empty());
}

#[test]
fn compile_protos_with_config_tonic_013() {
    let src = r#"fn main() {
    let mut config = prost_build::Config::new();
    config.bytes(["."]);
    tonic_build::configure()
        .compile_protos_with_config(config, &["proto/x.proto"], &["proto"])
        .expect("codegen");
}"#;
    let c = one(src);
    assert_eq!(c.entry, Entry::CompileProtosWithConfig);
    // The config's statements are folded into the call.
    assert_eq!(c.config_arg, None);
    assert_eq!(names(&c), vec!["bytes"]);
    assert_eq!(c.setup_stmts.len(), 2);
    assert_eq!(
        &src[c.setup_stmts[0].clone()],
        "let mut config = prost_build::Config::new();"
    );
    assert_eq!(&src[c.setup_stmts[1].clone()], "config.bytes([\".\"]);");
    assert_eq!(lits(&c.protos), vec!["proto/x.proto"]);
    assert_eq!(c.ending_kind, EndingKind::Expect);
}

#[test]
fn prost_config_folding_and_its_limits() {
    let src = r##"use prost_build::Config as ProstConfig;
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut cfg = ProstConfig::new();
    cfg.type_attribute(".", "#[derive(Hash)]").enable_type_names();
    cfg.protoc_arg("--experimental_allow_proto3_optional");
    tonic_build::configure()
        .build_client(false)
        .compile_protos_with_config(cfg, &["p/a.proto"], &["p"])?;
    Ok(())
}"##;
    let c = one(src);
    assert_eq!(c.config_arg, None);
    assert_eq!(
        names(&c),
        vec![
            "type_attribute",
            "enable_type_names",
            "protoc_arg",
            "build_client"
        ]
    );
    assert!(matches!(
        c.option("enable_type_names").unwrap().class,
        OptionClass::Reported(_)
    ));
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let t = p.replacement.unwrap();
    assert!(
        t.contains(".compile_protos(&[\"p/a.proto\"], &[\"p\"])?;"),
        "{t}"
    );
    assert!(t.contains(".protoc_arg(\"--experimental_allow_proto3_optional\")"));
    assert!(t.contains("config.type_attributes.push"));
    assert!(!t.contains("cfg"), "{t}");

    // A config used in a way the scan does not follow stays an argument.
    let c = one(r#"fn main() {
    let mut config = prost_build::Config::new();
    tweak(&mut config);
    tonic_build::configure().compile_protos_with_config(config, &["a.proto"], &["."]).unwrap();
}"#);
    assert_eq!(c.config_arg.unwrap().source, "config");
    assert!(c.setup_stmts.is_empty());
    assert!(c.options.is_empty());
}

#[test]
fn compile_with_config_tonic_014() {
    let c = one(r#"fn main() -> std::io::Result<()> {
    tonic_prost_build::configure()
        .compile_with_config(tonic_prost_build::Config::new(), &["p/x.proto"], &["p"])
}"#);
    assert_eq!(
        (c.generation, c.entry),
        (Generation::TonicProstBuild, Entry::CompileWithConfig)
    );
    assert_eq!(
        c.config_arg.unwrap().source,
        "tonic_prost_build::Config::new()"
    );
    assert_eq!(c.ending_kind, EndingKind::None);
    assert!(!c.has_semi, "tail expression");
    assert_eq!(c.fn_return, FnReturn::IoResult);
}

#[test]
fn compile_fds_forms() {
    let s = scan(
        r#"fn main() {
    let fds = protox::compile(["a.proto"], ["."]).unwrap();
    tonic_build::compile_fds(fds.clone()).unwrap();
    tonic_prost_build::configure().build_client(false).compile_fds(fds).unwrap();
}"#,
    );
    assert_eq!(s.calls.len(), 2);
    assert_eq!(s.calls[0].entry, Entry::CompileFdsFn);
    assert_eq!(s.calls[0].fds_arg.as_ref().unwrap().source, "fds.clone()");
    assert_eq!(s.calls[1].entry, Entry::CompileFds);
    assert!(s.calls[1].protos.unresolved.is_some());
    let p = plan(&s.calls[1], &["greet/v1/greet.proto"]);
    assert!(p.replacement.is_none());
    assert!(p.notes[0].contains("descriptor_set"));
}

#[test]
fn use_imports_and_aliases() {
    let c = one(r#"use tonic_build::configure;
fn main() { configure().compile_protos(&["x.proto"], &["."]).unwrap(); }"#);
    assert_eq!(
        (c.generation, c.crate_path.as_str()),
        (Generation::TonicBuild, "configure")
    );

    let s = scan(
        r#"use tonic_prost_build as tb;
fn main() { tb::configure().build_server(false).compile_protos(&["x.proto"], &["."]).unwrap(); }"#,
    );
    assert_eq!(s.calls.len(), 1);
    assert_eq!(s.calls[0].generation, Generation::TonicProstBuild);
    assert_eq!(s.calls[0].crate_path, "tb");
    assert_eq!(s.imports.len(), 1);
    assert_eq!(s.imports[0].source, "use tonic_prost_build as tb;");

    let s = scan(
        r#"use tonic_build::{configure as cfg, compile_protos};
fn main() {
    compile_protos("proto/a.proto").unwrap();
    cfg().compile(&["b.proto"], &["."]).unwrap();
}"#,
    );
    assert_eq!(s.calls.len(), 2);
    assert_eq!(s.calls[0].entry, Entry::CompileProtosFn);
    assert_eq!(s.calls[1].entry, Entry::Compile);

    let c = one(r#"use tonic_prost_build::*;
fn main() { configure().compile_protos(&["x.proto"], &["."]).unwrap(); }"#);
    assert_eq!(c.generation, Generation::TonicProstBuild);

    let c = one(r#"extern crate tonic_build as tbuild;
fn main() { ::tonic_build::configure().compile(&["x.proto"], &["."]).unwrap(); tbuild::configure(); }"#);
    assert_eq!(c.crate_path, "::tonic_build");

    let c = one(r#"use tonic_build as tb; use tb::configure as c;
fn main() { c().compile(&["x.proto"], &["."]).unwrap(); }"#);
    assert_eq!(c.generation, Generation::TonicBuild);
}

#[test]
fn other_codegen_is_not_tonic() {
    let s = scan(
        r#"fn main() {
    prost_build::compile_protos(&["a.proto"], &["."]).unwrap();
    connectrpc_build::Config::new().files(&["a.proto"]).compile().unwrap();
    configure().compile(&["a.proto"], &["."]).unwrap();
}
fn configure() -> Thing { Thing }"#,
    );
    assert!(s.calls.is_empty());
    assert!(s.unrecognised.is_empty());
    assert!(s.imports.is_empty());
}

#[test]
fn builder_variable() {
    let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    let builder = tonic_build::configure().build_client(false);
    builder.compile(&["a.proto"], &["."])?;
    Ok(())
}"#;
    let c = one(src);
    let mut edited = src.to_string();
    for r in c.setup_removals(src).iter().rev() {
        edited.replace_range(r.clone(), "");
    }
    assert_eq!(
            edited,
            "fn main() -> Result<(), Box<dyn std::error::Error>> {\n    builder.compile(&[\"a.proto\"], &[\".\"])?;\n    Ok(())\n}"
        );
    let shared = "fn main() { let b = tonic_build::configure(); b.compile(&[\"a.proto\"], &[\".\"]).unwrap(); }";
    let c2 = one(shared);
    assert_eq!(
        c2.setup_removals(shared),
        c2.setup_stmts,
        "a shared line is not widened"
    );
    assert_eq!(c.builder_var.as_deref(), Some("builder"));
    assert_eq!(names(&c), vec!["build_client"]);
    assert_eq!(c.setup_stmts.len(), 1);
    assert_eq!(
        &src[c.setup_stmts[0].clone()],
        "let builder = tonic_build::configure().build_client(false);"
    );
    assert_eq!(
        &src[c.stmt_range.clone()],
        r#"builder.compile(&["a.proto"], &["."])?;"#
    );
}

#[test]
fn builder_variable_reassigned_and_shadowed() {
    let src = r##"fn main() {
    let mut b = tonic_prost_build::configure();
    b = b.build_server(true);
    let b = b.out_dir("gen");
    b.type_attribute(".", "#[derive(Eq)]").compile_protos(&["a.proto"], &["."]).unwrap();
}"##;
    let c = one(src);
    assert_eq!(names(&c), vec!["build_server", "out_dir", "type_attribute"]);
    assert_eq!(c.setup_stmts.len(), 3);
    assert_eq!(&src[c.setup_stmts[1].clone()], "b = b.build_server(true);");
}

#[test]
fn builder_variable_used_in_a_nested_block_but_not_in_a_nested_fn() {
    let src = r#"fn main() {
    let b = tonic_build::configure().build_server(false);
    if cfg!(feature = "x") {
        b.compile(&["a.proto"], &["."]).unwrap();
    }
    fn inner() {
        b.compile(&["b.proto"], &["."]).unwrap();
    }
}"#;
    let s = scan(src);
    assert_eq!(s.calls.len(), 1);
    assert_eq!(lits(&s.calls[0].protos), vec!["a.proto"]);
    assert_eq!(s.calls[0].indent, "        ");
    assert_eq!(names(&s.calls[0]), vec!["build_server"]);
}

#[test]
fn service_generator_form_is_reported() {
    let s = scan(
        r#"fn main() {
    prost_build::Config::new()
        .service_generator(tonic_build::configure().service_generator())
        .compile_protos(&["a.proto"], &["."])
        .unwrap();
}"#,
    );
    assert!(s.calls.is_empty());
    assert_eq!(s.unrecognised.len(), 1);
    assert_eq!(s.unrecognised[0].source, "tonic_build::configure()");
}

#[test]
fn unused_builder_and_odd_forms_are_unrecognised() {
    let s = scan(
        r#"fn main() {
    let b = tonic_build::configure();
    helper(b);
    if let Err(e) = tonic_build::compile_protos("a/x.proto") { panic!("{e}") }
}"#,
    );
    assert!(s.calls.is_empty());
    assert_eq!(s.unrecognised.len(), 2);
    assert_eq!(s.unrecognised[0].source, "tonic_build::configure()");
    assert_eq!(
        s.unrecognised[1].source,
        r#"tonic_build::compile_protos("a/x.proto")"#
    );
    assert!(s.unrecognised[1].reason.contains("by hand"));
}

#[test]
fn nested_blocks_and_let_underscore() {
    let src = "fn main() {\n    if true {\n        let _ = tonic_build::compile_protos(\"p/x.proto\");\n    }\n}\n";
    let c = one(src);
    assert_eq!(c.indent, "        ");
    assert_eq!(c.stmt_prefix, "let _ = ");
    assert_eq!(c.ending_kind, EndingKind::None);
    assert_eq!(
        &src[c.stmt_range.clone()],
        "let _ = tonic_build::compile_protos(\"p/x.proto\");"
    );
}

#[test]
fn other_endings() {
    let c = one(r#"fn main() -> Result<(), String> {
    tonic_build::configure().compile(&["a.proto"], &["."]).map_err(|e| e.to_string())?;
    Ok(())
}"#);
    assert_eq!(c.ending, ".map_err(|e| e.to_string())?");
    assert_eq!(c.ending_kind, EndingKind::Other);
}

// ---- argument resolution ----------------------------------------------------------

#[test]
fn const_and_static_lists() {
    let src = r#"const PROTOS: &[&str] = &["proto/a.proto", "proto/b.proto"];
static INCLUDES: [&str; 1] = ["proto"];
fn main() { tonic_build::configure().compile_protos(PROTOS, &INCLUDES).unwrap(); }"#;
    let c = one(src);
    assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
    assert_eq!(c.protos.source, "PROTOS");
    assert_eq!(&src[c.protos.items[1].range.clone()], "\"proto/b.proto\"");
    assert_eq!(lits(&c.includes), vec!["proto"]);
}

#[test]
fn let_lists_vec_and_consts_in_arrays() {
    let c = one(r#"const A: &str = "proto/a.proto";
fn main() {
    let protos = vec![A, "proto/b.proto"];
    let includes = ["proto".to_string()];
    tonic_build::configure().compile_protos(&protos, &includes).unwrap();
}"#);
    assert_eq!(lits(&c.protos), vec!["proto/a.proto", "proto/b.proto"]);
    assert_eq!(lits(&c.includes), vec!["proto"]);
}

#[test]
fn pathbuf_and_concat_resolve() {
    let c = one(r#"fn main() {
    tonic_build::configure().compile_protos(
        &[std::path::PathBuf::from("proto/a.proto"), PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/proto/b.proto"))],
        &[Path::new("proto").to_path_buf(), PathBuf::from(concat!("pro", "to2"))],
    ).unwrap();
}"#);
    assert_eq!(lits(&c.protos), vec!["proto/a.proto", "/c/proto/b.proto"]);
    assert_eq!(
        c.protos.items[1].path(),
        Some(Path::new("/c/proto/b.proto"))
    );
    assert_eq!(lits(&c.includes), vec!["proto", "proto2"]);
}

#[test]
fn non_literal_args_are_unresolved() {
    let c = one(r#"fn main() {
    let root = std::env::var("PROTO_ROOT").unwrap();
    tonic_build::configure().compile_protos(
        &[format!("{root}/a.proto"), concat!(env!("OUT_DIR"), "/b.proto").to_string(), root.clone()],
        &find_includes(),
    ).unwrap();
}"#);
    let why: Vec<&PathValue> = c.protos.items.iter().map(|i| &i.value).collect();
    assert!(matches!(why[0], PathValue::Unresolved(w) if w.contains("format!")));
    assert!(matches!(why[1], PathValue::Unresolved(w) if w.contains("OUT_DIR")));
    assert!(matches!(why[2], PathValue::Unresolved(_)));
    assert!(c.protos.resolved_paths().is_none());
    assert!(c
        .includes
        .unresolved
        .as_deref()
        .unwrap()
        .contains("find_includes()"));
    assert!(c.includes.items.is_empty());
}

// ---- option classification ----------------------------------------------------------

fn arg(s: &str) -> OptionArg {
    OptionArg {
        base_indent: String::new(),
        source: s.into(),
        range: 0..0,
    }
}

#[test]
fn classify_each_option() {
    use OptionClass::*;
    let c =
        |n: &str, a: &[&str]| classify_option(n, &a.iter().map(|s| arg(s)).collect::<Vec<_>>()).0;
    for keep in [
        "build_client",
        "build_server",
        "build_transport",
        "out_dir",
        "include_file",
        "server_mod_attribute",
        "client_attribute",
        "use_arc_self",
        "generate_default_stubs",
        "emit_package",
        "disable_package_emission",
        "protoc_arg",
        "skip_protoc_run",
    ] {
        assert_eq!(c(keep, &["x"]), KeepOnTonic, "{keep}");
    }
    assert_eq!(
        c("file_descriptor_set_path", &["p"]),
        KeepOnTonicAndConnect("emit_descriptor_set".into())
    );
    assert_eq!(
        c("emit_rerun_if_changed", &["false"]),
        KeepOnTonicAndConnect("emit_rerun_directives".into())
    );
    assert_eq!(
        c("type_attribute", &["\".\"", "\"#[derive(Eq)]\""]),
        MovesToBuffa("type_attributes".into())
    );
    assert!(derives_eq_or_hash("\"#[derive(Clone, std::hash::Hash)]\""));
    assert!(derives_eq_or_hash("\"#[derive(PartialOrd, Ord)]\""));
    assert!(!derives_eq_or_hash(
        "\"#[derive(PartialEq)] #[serde(rename = \\\"Eq\\\")]\""
    ));
    assert!(!derives_eq_or_hash("\"#[allow(dead_code)]\""));
    assert_eq!(
        c("message_attribute", &["\".\"", "\"#[x]\""]),
        MovesToBuffa("message_attributes".into())
    );
    assert_eq!(
        c("enum_attribute", &["\".\"", "\"#[x]\""]),
        MovesToBuffa("enum_attributes".into())
    );
    assert_eq!(
        c("field_attribute", &["\".\"", "\"#[x]\""]),
        MovesToBuffa("field_attributes".into())
    );
    assert!(matches!(
        c(
            "type_attribute",
            &["\".\"", "\"#[derive(serde::Serialize)]\""]
        ),
        Reported(_)
    ));
    assert!(matches!(c("bytes", &["[\".\"]"]), MovesToBuffa(w) if w.contains("BytesRepr")));
    assert!(matches!(c("btree_map", &["[\".\"]"]), MovesToBuffa(w) if w.contains("BTreeMap")));
    assert!(matches!(c("boxed", &["\".a.B.c\""]), MovesToBuffa(w) if w.contains("Box")));
    assert!(matches!(
        c("compile_well_known_types", &["true"]),
        Replaced(_)
    ));
    assert!(matches!(c("codec_path", &["\"x::C\""]), Replaced(_)));
    assert!(matches!(c("skip_debug", &["[\".\"]"]), Reported(_)));
    assert!(matches!(
        c(
            "extern_path",
            &["\".google.protobuf\"", "\"::pbjson_types\""]
        ),
        Reported(_)
    ));
    assert_eq!(
        c("extern_path", &["\".other\"", "\"::other::pb\""]),
        KeepOnTonic
    );
    let (_, note) = classify_option("extern_path", &[arg("\".other\""), arg("\"::other\"")]);
    assert!(note.unwrap().contains("migrated first"));
    // A module of this crate is no other crate: the mapping stays on tonic, nothing to say.
    let (cls, note) = classify_option(
        "extern_path",
        &[arg("\".common\""), arg("\"crate::common\"")],
    );
    assert_eq!((cls, note), (KeepOnTonic, None));
    let (cls, note) = classify_option("frobnicate", &[]);
    assert_eq!(cls, KeepOnTonic);
    assert!(note.unwrap().contains("not a known"));
}

#[test]
fn every_option_form_is_recorded_with_source() {
    let src = r##"fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    tonic_build::configure()
        .file_descriptor_set_path(out.join("greeter_descriptor.bin"))
        .type_attribute("greet.v1.HelloRequest", "#[derive(Hash)]")
        .field_attribute("greet.v1.HelloRequest.name", "#[allow(dead_code)]")
        .message_attribute(".", "#[allow(clippy::all)]")
        .enum_attribute(".", "#[allow(clippy::all)]")
        .extern_path(".common", "::common::pb")
        .bytes(["."])
        .btree_map(["."])
        .protoc_arg("--experimental_allow_proto3_optional")
        .include_file("mod.rs")
        .emit_rerun_if_changed(false)
        .compile_well_known_types(true)
        .codec_path("crate::MyCodec")
        .server_mod_attribute("greet.v1", "#[cfg(feature = \"server\")]")
        .compile(&["a.proto"], &["."])
        .unwrap();
}"##;
    let c = one(src);
    assert_eq!(c.options.len(), 14);
    for o in &c.options {
        assert!(src[o.range.clone()].starts_with(&o.name));
        for a in &o.args {
            assert_eq!(&src[a.range.clone()], a.source);
        }
    }
    let fds = c.option("file_descriptor_set_path").unwrap();
    assert_eq!(
        fds.args[0].source,
        r##"out.join("greeter_descriptor.bin")"##
    );
    let sm = c.option("server_mod_attribute").unwrap();
    assert_eq!(sm.args[1].source, r##""#[cfg(feature = \"server\")]""##);
}

// ---- step 1 rewrite ---------------------------------------------------------------

#[test]
fn step1_recipe_for_a_plain_call() {
    let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .build_client(false)
        .compile_protos(&["proto/names/v1/names.proto"], &["proto"])?;
    Ok(())
}"#;
    let c = one(src);
    let p = plan(&c, &["names/v1/names.proto"]);
    let expected = r#"let out_dir = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR is set by cargo"));
    connectrpc_build::Config::new()
        .files(&["proto/names/v1/names.proto"])
        .includes(&["proto"])
        .out_dir(out_dir.join("connect"))
        .include_file("_connectrpc.rs")
        .compile()?;
    std::fs::create_dir_all(out_dir.join("tonic"))?;
    tonic_prost_build::configure()
        .build_client(false)
        .out_dir(out_dir.join("tonic"))
        .extern_path(".names.v1", "crate::connect::names::v1")
        .extern_path(".names.v1.Foo_Bar", "crate::connect::names::v1::Foo_Bar")
        .extern_path(".names.v1.GetHTTPThing", "crate::connect::names::v1::GetHTTPThing")
        .extern_path(".names.v1.GetHTTPThing.XMLPart", "crate::connect::names::v1::get_http_thing::XMLPart")
        .extern_path(".names.v1.lower_snake_msg", "crate::connect::names::v1::lower_snake_msg")
        .codec_path("connect_shim::codec::BuffaCodec")
        .compile_protos(&["proto/names/v1/names.proto"], &["proto"])?;"#;
    assert_eq!(p.replacement.as_deref(), Some(expected));
    assert_eq!(p.tonic_out_subdir.as_deref(), Some("tonic"));
    assert_eq!(
        p.build_dependencies,
        vec!["connectrpc-build", "tonic-prost-build"]
    );
    assert_eq!(
        p.dependencies,
        vec!["connectrpc", "buffa", "serde", "connect-shim", "tonic"],
        "no WKT in names.proto"
    );
    assert!(p.notes.iter().any(|n| n.contains("tonic-prost-build 0.14")));
    assert!(p.notes.iter().any(|n| n.contains("OUT_DIR/tonic")));
    // The same through the String API.
    assert_eq!(
        generate_step1_build_rs_edit(&c, &schema(&["names/v1/names.proto"])),
        expected
    );
}

#[test]
fn step1_maps_wkts_and_emits_descriptor_set() {
    let src = r#"fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap());
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("greeter.bin"))
        .compile_well_known_types(false)
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])
        .unwrap();
}"#;
    let c = one(src);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let text = p.replacement.unwrap();
    assert!(
        text.contains(".emit_descriptor_set(\"greeter.bin\")"),
        "{text}"
    );
    assert!(text.contains(".file_descriptor_set_path(out.join(\"greeter.bin\"))"));
    assert!(text.contains(".compile_well_known_types(true)"));
    assert!(!text.contains("compile_well_known_types(false)"));
    assert!(
        text.contains(".extern_path(\".google.protobuf\", \"::buffa_types::google::protobuf\")")
    );
    assert!(text.contains(".extern_path(\".greet.v1\", \"crate::connect::greet::v1\")"));
    assert!(
        !text.contains(".extern_path(\".common\""),
        "imported-only packages are not mapped"
    );
    assert!(text.contains(".compile()\n        .unwrap();"), "{text}");
    assert!(text.ends_with(".unwrap();"));
    assert!(p.dependencies.contains(&"buffa-types"));
    assert!(!p.build_dependencies.contains(&"buffa-types"));
    assert!(!p
        .notes
        .iter()
        .any(|n| n.contains("tonic-prost-build 0.14 (the shim")));
}

#[test]
fn step1_moves_prost_options_to_buffa_and_reports_the_rest() {
    let src = r##"fn main() {
    tonic_build::configure()
        .type_attribute(".", "#[derive(Hash)]")
        .type_attribute(".", "#[derive(serde::Serialize, serde::Deserialize)]")
        .bytes(["."])
        .btree_map(&[".greet.v1.Rich.counts"])
        .skip_debug(["."])
        .compile(&["proto/greet/v1/greet.proto"], &["proto"])
        .expect("tonic codegen");
}"##;
    let c = one(src);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let text = p.replacement.unwrap();
    assert!(
        text.contains("let mut config = connectrpc_build::CodeGenConfig::default();"),
        "{text}"
    );
    assert!(text.contains("config.generate_json = true;"));
    assert!(
        text.contains(r##"config.type_attributes.push((".".into(), "#[derive(Hash)]".into()));"##)
    );
    // A `Hash` derive needs the unknown-fields member gone.
    assert!(
        text.contains("config.preserve_unknown_fields = false;"),
        "{text}"
    );
    assert!(!text.contains("serde::Serialize"));
    assert!(
        text.contains("config.bytes_fields.push((\".\".into(), buffa_codegen::BytesRepr::Bytes));"),
        "{text}"
    );
    assert!(text.contains("config.map_fields.push((\".greet.v1.Rich.counts\".into(), buffa_codegen::MapRepr::BTreeMap));"), "{text}");
    assert!(text.contains("buffa_codegen::MapRepr::BTreeMap"));
    assert!(
        !text.contains(".type_attribute("),
        "moved options leave the tonic builder"
    );
    assert!(!text.contains(".bytes("));
    assert!(!text.contains("skip_debug"));
    assert!(
        text.contains(".compile()\n        .expect(\"tonic codegen\");"),
        "{text}"
    );
    assert!(p.build_dependencies.contains(&"buffa-codegen"));
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("skip_debug") && n.contains("dropped")));
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("serde") && n.contains("dropped")));
    // The buffa config block comes before files(): connectrpc-build discards earlier settings.
    assert!(text.find(".buffa_config(").unwrap() < text.find(".files(").unwrap());
}

#[test]
fn step1_free_fn_and_reindent_in_nested_block() {
    let src = "fn main() {\n    if std::env::var(\"X\").is_ok() {\n        tonic_build::compile_protos(\"proto/greet/v1/greet.proto\").unwrap();\n    }\n}\n";
    let c = one(src);
    let text = plan(&c, &["greet/v1/greet.proto"]).replacement.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("        connectrpc_build::Config::new()"),
        "{text}"
    );
    assert!(
        lines[2].starts_with("            .files(&[\"proto/greet/v1/greet.proto\"])"),
        "{text}"
    );
    assert!(text.contains(".includes(&[\"proto/greet/v1\"])"));
    assert!(
        text.contains(".compile_protos(&[\"proto/greet/v1/greet.proto\"], &[\"proto/greet/v1\"])")
    );
    // Splice it in and check the file still parses.
    let mut out = src.to_string();
    out.replace_range(c.stmt_range.clone(), &text);
    syn::parse_file(&out).expect("rewritten build.rs parses");
}

#[test]
fn step1_output_parses_for_every_recognised_form() {
    let cases = [
        r##"fn main() -> Result<(), Box<dyn std::error::Error>> { let b = tonic_build::configure().build_server(true); b.compile(&["a.proto"], &["."])?; Ok(()) }"##,
        r##"fn main() -> std::io::Result<()> { tonic_prost_build::configure().compile_protos(&["a.proto"], &["."]) }"##,
        r##"fn main() { let _ = tonic_build::configure().compile_protos_with_config(prost_build::Config::new(), &["a.proto"], &["."]); }"##,
        r##"const P: &[&str] = &["a.proto"]; fn main() { tonic_build::configure().bytes(["."]).type_attribute(".", "#[derive(Eq)]").compile(P, &["."]).unwrap(); }"##,
    ];
    for src in cases {
        let c = one(src);
        let p = plan(&c, &["greet/v1/greet.proto"]);
        let text = p.replacement.expect(src);
        let mut out = src.to_string();
        out.replace_range(c.stmt_range.clone(), &text);
        for r in c.setup_stmts.iter().rev() {
            out.replace_range(r.clone(), "");
        }
        syn::parse_file(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
    }
}

#[test]
fn step1_comments_in_the_chain_survive() {
    let src = r##"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_prost_build::configure()
        // The descriptor set feeds the reflection service.
        .file_descriptor_set_path(out.join("x.bin"))
        .build_server(true) // servers only
        // Hash for the cache.
        .type_attribute(".", "#[derive(Hash)]")
        // Not needed any more.
        .compile_well_known_types(true)
        // Both trees.
        .compile_protos(&["a.proto"], &["."])?;
    Ok(())
}"##;
    let c = one(src);
    assert_eq!(
        c.option("file_descriptor_set_path").unwrap().comments,
        vec!["// The descriptor set feeds the reflection service.".to_string()]
    );
    assert_eq!(
        c.option("type_attribute").unwrap().comments,
        vec!["// Hash for the cache.".to_string()]
    );
    assert_eq!(
        c.option("build_server")
            .unwrap()
            .trailing_comment
            .as_deref(),
        Some("// servers only")
    );
    assert_eq!(c.entry_comments, vec!["// Both trees.".to_string()]);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let t = p.replacement.unwrap();
    assert!(t.contains("    tonic_prost_build::configure()\n        // The descriptor set feeds the reflection service.\n        .file_descriptor_set_path(out.join(\"x.bin\"))"), "{t}");
    assert!(
        t.contains("            // Hash for the cache.\n            config.type_attributes.push"),
        "{t}"
    );
    assert!(
        t.contains("        // Both trees.\n        .compile_protos(&[\"a.proto\"], &[\".\"])?;"),
        "{t}"
    );
    assert!(
        t.contains("        .build_server(true) // servers only\n"),
        "{t}"
    );
    let same_line = one(
        r#"fn main() { tonic_build::configure().out_dir("x").protoc_arg("a//b").compile(&["a.proto"], &["."]).unwrap(); }"#,
    );
    assert_eq!(same_line.option("out_dir").unwrap().trailing_comment, None);
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("// Not needed any more.")));
    let mut out = src.to_string();
    out.replace_range(c.stmt_range.clone(), &t);
    syn::parse_file(&out).unwrap();
}

#[test]
fn step1_reindents_multiline_arguments() {
    let src = "fn main() {\n    {\n        tonic_build::configure()\n            .type_attribute(\n                \".\",\n                \"#[derive(Eq)]\",\n            )\n            .compile(\n                &[\n                    \"a.proto\",\n                    \"b.proto\",\n                ],\n                &[\".\"],\n            )\n            .unwrap();\n    }\n}\n";
    let c = one(src);
    let t = plan(&c, &["greet/v1/greet.proto"]).replacement.unwrap();
    let expected_files = "        connectrpc_build::Config::new()\n            .buffa_config({\n                let mut config = connectrpc_build::CodeGenConfig::default();\n                config.generate_json = true;\n                // `Eq` / `Hash` on messages (map keys, `Eq` / `Hash` types, derive attributes; prost\n                // derived them): buffa derives them only without the unknown-fields member, which\n                // prost never kept either.\n                config.preserve_unknown_fields = false;\n                config.type_attributes.push((\".\".into(), \"#[derive(Eq)]\".into()));\n                config\n            })\n            .files(&[\n                \"a.proto\",\n                \"b.proto\",\n            ])\n";
    assert!(t.contains(expected_files), "{t}");
    assert!(t.contains("            .compile_protos(&[\n                \"a.proto\",\n                \"b.proto\",\n            ], &[\".\"])\n            .unwrap();"), "{t}");
    // A multi-line string literal keeps its content.
    assert_eq!(
        reindent("r\"a\n        b\"", "        ", "    "),
        "r\"a\n        b\""
    );
    assert_eq!(
        reindent("&[\n        \"x\",\n    ]", "    ", "        "),
        "&[\n            \"x\",\n        ]"
    );
}

#[test]
fn step1_endings_follow_the_function() {
    let io = one(
        r#"fn main() -> std::io::Result<()> { tonic_build::configure().compile(&["a.proto"], &["."])?; Ok(()) }"#,
    );
    let t = plan(&io, &["greet/v1/greet.proto"]).replacement.unwrap();
    assert!(
        t.contains(".compile().map_err(std::io::Error::other)?;"),
        "{t}"
    );
    let tail = one(
        r#"fn main() -> std::io::Result<()> { tonic_prost_build::configure().compile_protos(&["a.proto"], &["."]) }"#,
    );
    let t = plan(&tail, &["greet/v1/greet.proto"]).replacement.unwrap();
    assert!(
        t.ends_with(".compile_protos(&[\"a.proto\"], &[\".\"])"),
        "tail stays a tail: {t}"
    );
    let unit = one(r#"fn main() { let _ = tonic_build::compile_protos("p/a.proto"); }"#);
    let t = plan(&unit, &["greet/v1/greet.proto"]).replacement.unwrap();
    assert!(t.contains(".expect(\"connectrpc-build failed\");"), "{t}");
    assert!(t.contains("std::fs::create_dir_all(out_dir.join(\"tonic\")).expect(\"cannot create OUT_DIR/tonic\");"), "{t}");
    assert!(
        t.contains("\nlet _ = tonic_prost_build::configure()"),
        "{t}"
    );
    let odd = one(
        r#"fn main() -> Result<(), MyErr> { tonic_build::configure().compile(&["a.proto"], &["."])?; Ok(()) }"#,
    );
    let p = plan(&odd, &["greet/v1/greet.proto"]);
    assert!(p.notes.iter().any(|n| n.contains("MyErr")));
}

#[test]
fn step1_descriptor_set_from_env_out_dir_and_user_extern_paths() {
    let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .file_descriptor_set_path(PathBuf::from(std::env::var("OUT_DIR")?).join("greet_fds.bin"))
        .extern_path(".names.v1.Foo_Bar", "::shared::FooBar")
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile(&["proto/names/v1/names.proto"], &["proto"])?;
    Ok(())
}"#;
    let c = one(src);
    let p = plan(&c, &["names/v1/names.proto"]);
    let t = p.replacement.unwrap();
    assert!(t.contains(".emit_descriptor_set(\"greet_fds.bin\")"), "{t}");
    assert_eq!(
        t.matches(".extern_path(\".names.v1.Foo_Bar\"").count(),
        1,
        "{t}"
    );
    assert!(t.contains(".extern_path(\".names.v1.Foo_Bar\", \"::shared::FooBar\")"));
    assert!(!t.contains("pbjson_types"));
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("pbjson_types") && n.contains("dropped")));
    assert!(p.notes.iter().any(|n| n.contains("migrated first")));
}

#[test]
fn step1_reuses_an_out_dir_variable_and_resolves_descriptor_names_through_lets() {
    let src = r##"fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_file = out_dir.join("descriptors.bin");
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_file)
        .type_attribute(".", "#[serde_with::serde_as]")
        .field_attribute(".a.B.c", "#[serde_as(as = \"serde_with::DisplayFromStr\")]")
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])?;
    Ok(())
}"##;
    let c = one(src);
    assert!(c.out_dir_is_existing);
    assert_eq!(c.out_dir_ident, "out_dir");
    assert_eq!(c.descriptor_set_file.as_deref(), Some("descriptors.bin"));
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let t = p.replacement.unwrap();
    assert!(
        t.starts_with("connectrpc_build::Config::new()"),
        "no second OUT_DIR variable: {t}"
    );
    assert!(t.contains(".out_dir(out_dir.join(\"connect\"))"));
    assert!(
        t.contains(".emit_descriptor_set(\"descriptors.bin\")"),
        "{t}"
    );
    assert!(!t.contains("serde"), "serde attributes are dropped: {t}");
    assert_eq!(p.notes.iter().filter(|n| n.contains("serde")).count(), 2);
}

#[test]
fn step1_keeps_a_custom_out_dir_and_avoids_name_clashes() {
    let src = r#"fn main() {
    let out_dir = "src/gen";
    tonic_build::configure().out_dir(out_dir).compile(&["a.proto"], &["."]).unwrap();
}"#;
    let c = one(src);
    assert_eq!(c.out_dir_ident, "cargo_out_dir");
    let method_only = one(
        r#"fn main() { tonic_build::configure().out_dir("gen").compile(&["a.proto"], &["."]).unwrap(); }"#,
    );
    assert_eq!(
        method_only.out_dir_ident, "out_dir",
        "a method named out_dir is no clash"
    );
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let t = p.replacement.unwrap();
    assert!(t.starts_with("let cargo_out_dir = "));
    assert!(t.contains(".out_dir(cargo_out_dir.join(\"connect\"))"));
    assert!(t.contains(".out_dir(out_dir)"));
    assert!(!t.contains("join(\"tonic\")"));
    assert!(
        !t.contains("create_dir_all"),
        "a user out_dir is theirs to create"
    );
    assert_eq!(p.tonic_out_subdir, None);
}

#[test]
fn step1_suffix_attribute_paths_are_spelled_out_for_buffa() {
    let src = r##"fn main() {
    let paths = ["."];
    tonic_build::configure()
        .bytes(["blob", ".greet.v1.HelloRequest.name"])
        .btree_map(paths)
        .type_attribute("Inner", "#[derive(Eq)]")
        .field_attribute("Rich.ratio", "#[allow(unused)]")
        .type_attribute("NoSuchType", "#[derive(Eq)]")
        .message_attribute(".greet.v1", "#[allow(unused)]")
        .compile(&["a.proto"], &["."])
        .unwrap();
}"##;
    let c = one(src);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    let t = p.replacement.unwrap();
    assert!(t.contains(r##"config.type_attributes.push((".greet.v1.Rich.Inner".into(), "#[derive(Eq)]".into()));"##), "{t}");
    assert!(t.contains(r##"config.field_attributes.push((".greet.v1.Rich.ratio".into(), "#[allow(unused)]".into()));"##), "{t}");
    assert!(
        t.contains(
            r##"config.message_attributes.push((".greet.v1".into(), "#[allow(unused)]".into()));"##
        ),
        "{t}"
    );
    assert!(!t.contains("NoSuchType"));
    assert!(t.contains(r##"config.bytes_fields.push((".greet.v1.Rich.blob".into(), buffa_codegen::BytesRepr::Bytes));"##), "{t}");
    assert!(t.contains(r##"config.bytes_fields.push((".greet.v1.HelloRequest.name".into(), buffa_codegen::BytesRepr::Bytes));"##), "{t}");
    assert!(t.contains("config.map_fields.extend(IntoIterator::into_iter(paths).map(|path| (path.to_string(), buffa_codegen::MapRepr::BTreeMap)));"), "{t}");
    assert!(p
        .notes
        .iter()
        .any(|n| n.contains("NoSuchType") && n.contains("suffix")));
}

#[test]
fn step1_keyword_package_segments() {
    let sc = Schema::from_sources(
        &[(
            "k.proto",
            "syntax = \"proto3\"; package acme.type.v2; \
                 service S { rpc Do(lower_req) returns (lower_req); } message lower_req {}",
        )],
        1,
    )
    .unwrap();
    let c =
        one(r#"fn main() { tonic_build::configure().compile(&["k.proto"], &["."]).unwrap(); }"#);
    let t = generate_step1_build_rs_edit(&c, &sc);
    // Prefix entries are escaped by prost-build itself; exact entries are used verbatim.
    assert!(
        t.contains(".extern_path(\".acme.type.v2\", \"crate::connect::acme::type::v2\")"),
        "{t}"
    );
    assert!(t.contains(".extern_path(\".acme.type.v2.lower_req\", \"crate::connect::acme::r#type::v2::lower_req\")"), "{t}");
}

#[test]
fn step1_exact_paths_for_packageless_rpc_types() {
    let sc = Schema::from_sources(
        &[(
            "x.proto",
            "syntax = \"proto3\"; service S { rpc Do(Req) returns (Req); } message Req {}",
        )],
        1,
    )
    .unwrap();
    let c =
        one(r#"fn main() { tonic_build::configure().compile(&["x.proto"], &["."]).unwrap(); }"#);
    let t = generate_step1_build_rs_edit(&c, &sc);
    assert!(
        t.contains(".extern_path(\".Req\", \"crate::connect::Req\")"),
        "{t}"
    );
    assert!(!t.contains(".extern_path(\".\","));
    assert_eq!(sc.package("").unwrap().tonic_file(), "_.rs");
}

#[test]
fn step1_unrewritable_call_returns_the_original_statement() {
    let src = r#"fn main() { let p = find(); tonic_build::compile_protos(p).unwrap(); }"#;
    let c = one(src);
    let p = plan(&c, &["greet/v1/greet.proto"]);
    assert!(p.replacement.is_none());
    assert!(p.notes[0].contains("parent"));
    assert_eq!(
        generate_step1_build_rs_edit(&c, &schema(&["greet/v1/greet.proto"])),
        "tonic_build::compile_protos(p).unwrap();"
    );
}

#[test]
fn schema_inputs_load_the_schema() {
    let data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schema-data"));
    let calls = find_codegen_calls(
        r#"fn main() {
    tonic_build::configure().compile(&["greet/v1/greet.proto"], &["."]).unwrap();
    tonic_build::configure().compile(&["v1/greet.proto"], &["greet", "."]).unwrap();
    tonic_build::compile_protos("names/v1/names.proto").unwrap();
    tonic_build::configure().compile(&[format!("x")], &["."]).unwrap();
}"#,
        &data,
    )
    .unwrap();
    let (files, includes) = calls[0].schema_inputs().unwrap();
    assert_eq!(files, vec![data.join("greet/v1/greet.proto")]);
    assert_eq!(includes, vec![data.join(".")]);
    let sc = Schema::load(&files, &includes).unwrap();
    assert!(sc.service("greet.v1.Greeter").is_some());
    // A name relative to an include directory, not to the crate.
    let (files, includes) = calls[1].schema_inputs().unwrap();
    assert_eq!(files, vec![PathBuf::from("v1/greet.proto")]);
    assert!(Schema::load(&files, &includes).is_ok());
    let (files, includes) = calls[2].schema_inputs().unwrap();
    assert_eq!(includes, vec![data.join("names/v1")]);
    let sc = Schema::load(&files, &includes).unwrap();
    assert!(sc.message("names.v1.Foo_Bar").is_some());
    assert!(calls[3].schema_inputs().unwrap_err().contains("format!"));
}

#[test]
fn step1_is_idempotent() {
    let src = r#"fn main() -> Result<(), Box<dyn std::error::Error>> {
    tonic_build::configure()
        .build_client(false)
        .compile_protos(&["proto/greet/v1/greet.proto"], &["proto"])?;
    Ok(())
}"#;
    let c = one(src);
    assert!(!c.already_step1);
    let sc = schema(&["greet/v1/greet.proto"]);
    let mut once = src.to_string();
    once.replace_range(c.stmt_range.clone(), &generate_step1_build_rs_edit(&c, &sc));
    let again = scan(&once);
    assert_eq!(
        again.calls.len(),
        1,
        "the tonic half is still a codegen call"
    );
    let c2 = &again.calls[0];
    assert!(c2.already_step1);
    assert_eq!(c2.generation, Generation::TonicProstBuild);
    let p = plan_step1_build_rs(c2, &sc, &Step1Config::default());
    assert!(p.replacement.is_none());
    let mut twice = once.clone();
    twice.replace_range(
        c2.stmt_range.clone(),
        &generate_step1_build_rs_edit(c2, &sc),
    );
    assert_eq!(twice, once);
}

#[test]
fn parse_errors_surface() {
    assert!(scan_build_rs("fn main( {", Path::new(DIR)).is_err());
}

// ---- module side ------------------------------------------------------------------

#[test]
fn finds_module_includes() {
    let src = r#"pub mod pb {
    tonic::include_proto!("greet.v1");
    pub const FDS: &[u8] = tonic::include_file_descriptor_set!("greeter_descriptor");
}
pub mod raw {
    pub mod inner {
        include!(concat!(env!("OUT_DIR"), "/", "other.v2", ".rs"));
    }
}
const BYTES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/x.bin"));
mod not_ours {
    include!("local.rs");
    include!(concat!(env!("CARGO_MANIFEST_DIR"), "/y.rs"));
}
"#;
    let found = find_proto_includes(src).unwrap();
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_eq!(found[0].kind, IncludeKind::IncludeProto);
    assert_eq!(found[0].package.as_deref(), Some("greet.v1"));
    assert_eq!(found[0].out_dir_file, "greet.v1.rs");
    assert_eq!(found[0].module_path, vec!["pb".to_string()]);
    assert_eq!(
        &src[found[0].range.clone()],
        r#"tonic::include_proto!("greet.v1")"#
    );
    assert_eq!(found[1].kind, IncludeKind::FileDescriptorSet);
    assert_eq!(found[1].out_dir_file, "greeter_descriptor.bin");
    assert_eq!(
        &src[found[1].range.clone()],
        r#"tonic::include_file_descriptor_set!("greeter_descriptor")"#
    );
    assert_eq!(found[2].kind, IncludeKind::IncludeOutDir);
    assert_eq!(found[2].package.as_deref(), Some("other.v2"));
    assert_eq!(
        found[2].module_path,
        vec!["raw".to_string(), "inner".to_string()]
    );
    assert_eq!(found[3].kind, IncludeKind::IncludeBytesOutDir);
    assert_eq!(found[3].out_dir_file, "x.bin");
    assert!(found[3].module_path.is_empty());
}

#[test]
fn finds_imported_and_subdir_includes() {
    let src = r#"use tonic::{include_proto, include_file_descriptor_set as fds};
mod a { include_proto!("a.v1"); }
mod b { include!(concat!(env!("OUT_DIR"), "/tonic/b.v1.rs")); }
const F: &[u8] = fds!("d");
mod c { other::include_proto!("c.v1"); }
"#;
    let found = find_proto_includes(src).unwrap();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(found[0].package.as_deref(), Some("a.v1"));
    assert_eq!(found[1].out_dir_file, "tonic/b.v1.rs");
    assert_eq!(found[1].package.as_deref(), Some("b.v1"));
    assert_eq!(found[2].kind, IncludeKind::FileDescriptorSet);
    assert_eq!(found[2].out_dir_file, "d.bin");
}

/// Before: `include_proto!("api/api")` (a call with its own `out_dir`, chirpstack_api) was taken
/// for the package `api/api`: the module was not rewritten and lost its messages to buffa's
/// private tree without a word. After: the package is the last part; the file is the one read.
#[test]
fn a_directory_before_the_package_is_not_part_of_it() {
    let found = find_proto_includes("tonic::include_proto!(\"api/api\");\n").unwrap();
    assert_eq!(found[0].package.as_deref(), Some("api"));
    assert_eq!(found[0].out_dir_file, "api/api.rs");
}

/// Before: `include_proto!("/grpc.examples.echo")` was taken for the package
/// `/grpc.examples.echo` (no such package: the module was neither rewritten nor recognised by
/// step 9). After: the package and file tonic's macro reads.
#[test]
fn leading_slash_names_the_same_package() {
    let src = r#"pub mod pb {
    tonic::include_proto!("/grpc.examples.echo");
    pub const FDS: &[u8] = tonic::include_file_descriptor_set!("//echo_descriptor");
}
"#;
    let found = find_proto_includes(src).unwrap();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].package.as_deref(), Some("grpc.examples.echo"));
    assert_eq!(found[0].out_dir_file, "grpc.examples.echo.rs");
    assert_eq!(found[1].out_dir_file, "echo_descriptor.bin");
}

/// A build script that reads OUT_DIR besides running its codegen (a fix-up of the generated
/// files in a function of its own, or after the call) is found; reading it before the call (to
/// pass it to the codegen) or naming it in a comment is not post-processing.
#[test]
fn out_dir_read_besides_the_codegen_is_post_processing() {
    let call = "    tonic_prost_build::compile_protos(\"proto/a.proto\").unwrap();\n";
    let helper = format!(
        "fn main() {{\n{call}    fix();\n}}\n\nfn fix() {{\n    let p = std::env::var(\"OUT_DIR\").unwrap();\n    let _ = p;\n}}\n"
    );
    assert_eq!(
        scan(&helper).post_processing,
        Some(helper.find("OUT_DIR").unwrap())
    );
    let after = format!(
        "fn main() {{\n{call}    let p = std::env::var(\"OUT_DIR\").unwrap();\n    let _ = p;\n}}\n"
    );
    assert!(scan(&after).post_processing.is_some());
    let before = format!(
        "fn main() {{\n    // Generated into OUT_DIR.\n    let out = std::env::var(\"OUT_DIR\").unwrap();\n    let _ = out;\n{call}}}\n"
    );
    assert_eq!(scan(&before).post_processing, None);
    let comment = format!("fn main() {{\n{call}    // the files land in OUT_DIR\n}}\n");
    assert_eq!(scan(&comment).post_processing, None);
}
