//! Statement scanning: the codegen calls, builder variables and `prost_build::Config` values of
//! a `build.rs`, statement by statement.

use super::*;

/// Names visible at a point of a function body.
#[derive(Debug, Clone, Default)]
pub(super) struct Env {
    /// Builders under construction, by variable.
    vars: HashMap<String, BuilderVar>,
    /// `let` initialisers, for resolving path arguments.
    lets: HashMap<String, Expr>,
    /// `prost_build::Config` values set up by statements (`config.bytes(["."]);`).
    configs: HashMap<String, BuilderVar>,
}

/// A builder under construction in a variable.
#[derive(Debug, Clone)]
pub(super) struct BuilderVar {
    generation: Generation,
    crate_path: String,
    root_start: usize,
    options: Vec<CodegenOption>,
    setup: Vec<ByteRange>,
}

pub(super) struct Scanner<'a> {
    pub(super) src: &'a str,
    pub(super) crate_dir: &'a Path,
    pub(super) names: &'a Names,
    pub(super) scan: BuildRsScan,
    pub(super) fn_return: Vec<FnReturn>,
    /// Scopes: a block sees its enclosing blocks' names, a nested `fn` does not.
    pub(super) envs: Vec<Env>,
    /// Start offsets of root calls consumed by a recognised call or builder variable.
    pub(super) consumed: HashSet<usize>,
    pub(super) out_dir_ident: String,
}

/// A method chain split into its root and calls.
pub(super) struct Chain<'e> {
    root: ChainRoot<'e>,
    /// `(method, args, range of method..close paren)`, in call order.
    calls: Vec<(&'e syn::ExprMethodCall, ByteRange)>,
}

pub(super) enum ChainRoot<'e> {
    Call(&'e syn::ExprCall, Generation, FnKind, String),
    Var(String),
    Other,
}

pub(super) fn split_chain<'e>(e: &'e Expr, names: &Names) -> Chain<'e> {
    let mut calls = vec![];
    let mut cur = e;
    loop {
        match cur {
            Expr::MethodCall(m) => {
                let start = range(m.method.span()).start;
                let end = range(m.span()).end;
                calls.push((m, start..end));
                cur = &m.receiver;
            }
            Expr::Paren(p) => cur = &p.expr,
            _ => break,
        }
    }
    calls.reverse();
    let root = match cur {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => match names.resolve_fn(&p.path) {
                Some((g, k, path)) => ChainRoot::Call(c, g, k, path),
                None => ChainRoot::Other,
            },
            _ => ChainRoot::Other,
        },
        Expr::Path(p) if p.path.segments.len() == 1 && p.path.leading_colon.is_none() => {
            ChainRoot::Var(p.path.segments[0].ident.to_string())
        }
        _ => ChainRoot::Other,
    };
    Chain { root, calls }
}

pub(super) const BUILDER_ENTRY: &[&str] = &[
    "compile",
    "compile_protos",
    "compile_with_config",
    "compile_protos_with_config",
    "compile_fds",
    "compile_fds_with_config",
];

/// The start of a recognised codegen call: its builder (a root call or a variable) and its entry
/// call.
struct EntryPoint {
    generation: Generation,
    crate_path: String,
    root_start: usize,
    /// The builder's options before the entry call (a variable's earlier ones first).
    options: Vec<CodegenOption>,
    /// The statements that set the builder variable up.
    setup: Vec<ByteRange>,
    builder_var: Option<String>,
    entry: Entry,
    /// Index of the entry call in the chain; `None` for a free `compile_protos(..)`.
    entry_call: Option<usize>,
}

/// What follows the entry call: its text (leading whitespace trimmed), whether it starts on a
/// new line, and its kind.
struct Ending {
    text: String,
    newline: bool,
    kind: EndingKind,
}

/// The entry call's arguments, as step 1 reads them.
struct EntryArgs {
    protos: PathList,
    includes: PathList,
    config_arg: Option<OptionArg>,
    fds_arg: Option<OptionArg>,
}

/// Notes an `out_dir` option that names a fixed directory (likely checked-in code).
fn note_fixed_out_dir(options: &mut [CodegenOption]) {
    for o in options.iter_mut() {
        if o.name == "out_dir" {
            if let Some(a) = o.args.first() {
                let lit = first_string_literal(&a.source);
                if lit.is_some_and(|l| !l.contains("OUT_DIR"))
                    && !a.source.contains("OUT_DIR")
                    && !a.source.contains("out_dir")
                {
                    o.note = Some(
                        "tonic writes into a fixed directory, likely checked-in code: the \
                         buffa messages go to OUT_DIR/connect and the module must include \
                         them from there"
                            .into(),
                    );
                }
            }
        }
    }
}

/// An existing `PathBuf` of OUT_DIR in scope, reused rather than shadowed.
fn existing_out_dir(lets: &HashMap<String, Expr>) -> Option<String> {
    lets.iter().find_map(|(name, e)| {
        let Expr::Call(c) = e else { return None };
        let Expr::Path(p) = &*c.func else { return None };
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let is_pathbuf_from = segs.ends_with(&["PathBuf".to_string(), "from".to_string()]);
        let text = quote::ToTokens::to_token_stream(e)
            .to_string()
            .replace(' ', "");
        (is_pathbuf_from && text.contains("var(\"OUT_DIR\")")).then(|| name.clone())
    })
}

/// The file name of `file_descriptor_set_path(..)`, read from a literal or a `let`.
fn descriptor_set_file(options: &[CodegenOption], lets: &HashMap<String, Expr>) -> Option<String> {
    options
        .iter()
        .find(|o| o.name == "file_descriptor_set_path")
        .and_then(|o| o.args.first())
        .and_then(|a| {
            last_string_literal(&a.source).or_else(|| {
                let name = a.source.trim_start_matches('&').trim();
                lets.get(name).and_then(|e| {
                    last_string_literal(&quote::ToTokens::to_token_stream(e).to_string())
                })
            })
        })
        .map(|name| {
            Path::new(&name)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or(name)
        })
}

/// A builder step 1 already rewrote: BuffaCodec as its codec, or buffa-types as an extern path.
fn is_already_step1(options: &[CodegenOption]) -> bool {
    options.iter().any(|o| {
        (o.name == "codec_path" && o.args.iter().any(|a| a.source.contains("BuffaCodec")))
            || (o.name == "extern_path" && o.args.iter().any(|a| a.source.contains("buffa_types")))
    })
}

impl<'a> Scanner<'a> {
    fn text(&self, r: &ByteRange) -> String {
        src_of(self.src, r).to_string()
    }

    fn current_return(&self) -> FnReturn {
        self.fn_return.last().cloned().unwrap_or(FnReturn::Unknown)
    }

    /// Scans one statement of a block, with the builder variables and `let` values visible at
    /// that point (`env`, updated in place).
    fn scan_stmt(&mut self, stmt: &Stmt, env: &mut Env) {
        {
            let stmt_r = range(stmt.span());
            match stmt {
                Stmt::Local(local) => {
                    let name = match &local.pat {
                        syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                        syn::Pat::Type(pt) => match &*pt.pat {
                            syn::Pat::Ident(pi) => Some(pi.ident.to_string()),
                            _ => None,
                        },
                        _ => None,
                    };
                    let Some(init) = &local.init else { return };
                    if init.diverge.is_none() {
                        // A builder being set up?
                        if let Some(name) = &name {
                            if let Some(b) =
                                self.builder_from(&init.expr, &env.vars, stmt_r.clone())
                            {
                                env.vars.insert(name.clone(), b);
                                return;
                            }
                            if let Some(c) = self.prost_config_from(&init.expr, stmt_r.clone()) {
                                env.configs.insert(name.clone(), c);
                                return;
                            }
                            env.configs.remove(name);
                            env.lets.insert(name.clone(), (*init.expr).clone());
                        }
                    }
                    // `let _ = <codegen>;` / `let r = <codegen>;`
                    let expr_r = range(init.expr.span());
                    if !self.try_call(&init.expr, stmt_r, expr_r, true, env) {
                        taint_configs(env, stmt);
                    }
                }
                Stmt::Expr(e, semi) => {
                    // `config.option(..);` on a prost_build::Config variable.
                    if semi.is_some() {
                        let chain = split_chain(e, self.names);
                        if let ChainRoot::Var(v) = &chain.root {
                            if !chain.calls.is_empty() {
                                if let Some(mut c) = env.configs.remove(v) {
                                    for (m, r) in &chain.calls {
                                        c.options.push(self.option(m, r.clone()));
                                    }
                                    c.setup.push(stmt_r);
                                    env.configs.insert(v.clone(), c);
                                    return;
                                }
                            }
                        }
                    }
                    if let Expr::Assign(a) = e {
                        // `b = b.option(..);`
                        if let Expr::Path(p) = &*a.left {
                            if let Some(id) = p.path.get_ident() {
                                let name = id.to_string();
                                if env.vars.contains_key(&name) {
                                    if let Some(b) =
                                        self.builder_from(&a.right, &env.vars, stmt_r.clone())
                                    {
                                        env.vars.insert(name, b);
                                        return;
                                    }
                                }
                            }
                        }
                    }
                    let expr_r = range(e.span());
                    if !self.try_call(e, stmt_r, expr_r, semi.is_some(), env) {
                        taint_configs(env, stmt);
                    }
                }
                _ => taint_configs(env, stmt),
            }
        }
        // Builders that never reach an entry call stay unconsumed, so their roots are reported.
    }

    /// `prost_build::Config::new()` / `tonic_prost_build::Config::new()` (or `Config::new()`
    /// imported from either), the start of a config variable.
    fn prost_config_from(&self, e: &Expr, stmt_r: ByteRange) -> Option<BuilderVar> {
        let Expr::Call(c) = e else { return None };
        let Expr::Path(p) = &*c.func else { return None };
        if !c.args.is_empty() {
            return None;
        }
        let segs: Vec<String> = p
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let ok = match segs.as_slice() {
            [krate, cfg, ctor] => {
                matches!(krate.as_str(), "prost_build" | "tonic_prost_build")
                    && cfg == "Config"
                    && matches!(ctor.as_str(), "new" | "default")
            }
            [cfg, ctor] => {
                self.names.prost_configs.contains(cfg) && matches!(ctor.as_str(), "new" | "default")
            }
            _ => false,
        };
        ok.then(|| BuilderVar {
            generation: Generation::TonicBuild,
            crate_path: String::new(),
            root_start: range(c.span()).start,
            options: vec![],
            setup: vec![stmt_r],
        })
    }

    /// A builder expression without an entry call: `configure()…` or `<var>.option(..)`.
    fn builder_from(
        &mut self,
        e: &Expr,
        vars: &HashMap<String, BuilderVar>,
        stmt_r: ByteRange,
    ) -> Option<BuilderVar> {
        let chain = split_chain(e, self.names);
        if chain
            .calls
            .iter()
            .any(|(m, _)| BUILDER_ENTRY.contains(&m.method.to_string().as_str()))
        {
            return None;
        }
        let mut b = match chain.root {
            ChainRoot::Call(c, g, FnKind::Configure, ref path) => BuilderVar {
                generation: g,
                crate_path: path.clone(),
                root_start: range(c.span()).start,
                options: vec![],
                setup: vec![],
            },
            ChainRoot::Var(ref v) => vars.get(v)?.clone(),
            _ => return None,
        };
        for (m, r) in &chain.calls {
            b.options.push(self.option(m, r.clone()));
        }
        b.setup.push(stmt_r);
        Some(b)
    }

    fn option(&self, m: &syn::ExprMethodCall, r: ByteRange) -> CodegenOption {
        let name = m.method.to_string();
        let args: Vec<OptionArg> = m
            .args
            .iter()
            .map(|a| {
                let r = range(a.span());
                OptionArg {
                    source: self.text(&r),
                    base_indent: line_indent(self.src, r.start),
                    range: r,
                }
            })
            .collect();
        let (class, note) = classify_option(&name, &args);
        let comments = self.comments_between(range(m.receiver.span()).end, r.start);
        let rest_of_line = &self.src[r.end..];
        let line = &rest_of_line[..rest_of_line.find('\n').unwrap_or(rest_of_line.len())];
        // Only a comment right after the call (`// ..` or `?; // ..`), not `//` in a later
        // call's string literal on the same line.
        let trailing_comment = line
            .find("//")
            .filter(|&i| {
                line[..i]
                    .chars()
                    .all(|c| c.is_whitespace() || "?;,)".contains(c))
            })
            .map(|i| line[i..].trim_end().to_string());
        CodegenOption {
            name,
            args,
            range: r,
            class,
            note,
            comments,
            trailing_comment,
        }
    }

    /// The `//` comments on the lines between two offsets of a method chain; a comment on the
    /// first line trails the previous element and is not included.
    fn comments_between(&self, from: usize, to: usize) -> Vec<String> {
        if from >= to {
            return vec![];
        }
        src_of(self.src, &(from..to))
            .lines()
            .skip(1)
            .filter_map(|l| l.find("//").map(|i| l[i..].trim_end().to_string()))
            .collect()
    }

    /// Records `e` as a codegen call when it is one (a free `compile_protos(..)`, or a builder
    /// reaching an entry call), with everything step 1 needs to rewrite its statement.
    fn try_call(
        &mut self,
        e: &Expr,
        stmt_r: ByteRange,
        expr_r: ByteRange,
        has_semi: bool,
        env: &Env,
    ) -> bool {
        // Peel the ending: `?`, `.unwrap()`, `.expect(..)`, or anything after the entry call.
        let mut core = e;
        while let Expr::Try(t) = core {
            core = &t.expr;
        }
        let chain = split_chain(core, self.names);
        let Some(mut start) = self.entry_point(&chain, &env.vars) else {
            return false;
        };
        // The entry call and what comes after it.
        let (entry_range, entry_args, after_start): (ByteRange, Vec<&Expr>, usize) =
            match start.entry_call {
                Some(i) => {
                    let (m, r) = &chain.calls[i];
                    (r.clone(), m.args.iter().collect(), r.end)
                }
                None => {
                    let ChainRoot::Call(c, ..) = &chain.root else {
                        return false;
                    };
                    let r = range(c.span());
                    (r.clone(), c.args.iter().collect(), r.end)
                }
            };
        let entry_comments = match start.entry_call {
            Some(i) => {
                let (m, r) = &chain.calls[i];
                self.comments_between(range(m.receiver.span()).end, r.start)
            }
            None => vec![],
        };
        let ending = self.ending(&chain, start.entry_call, after_start..expr_r.end);
        self.consumed.insert(start.root_start);

        let args = self.entry_args(&mut start, &entry_args, entry_range.end, env);
        note_fixed_out_dir(&mut start.options);
        let (out_dir_ident, out_dir_is_existing) = match existing_out_dir(&env.lets) {
            Some(n) => (n, true),
            None => (self.out_dir_ident.clone(), false),
        };
        let descriptor_set_file = descriptor_set_file(&start.options, &env.lets);
        let already_step1 = is_already_step1(&start.options);
        let prefix_r = stmt_r.start..expr_r.start;
        let indent = line_indent(self.src, stmt_r.start);
        self.scan.calls.push(CodegenCall {
            stmt_prefix: self.text(&prefix_r),
            stmt_source: self.text(&stmt_r),
            stmt_range: stmt_r,
            expr_range: expr_r,
            has_semi,
            indent,
            generation: start.generation,
            crate_path: start.crate_path,
            entry: start.entry,
            entry_range,
            protos: args.protos,
            includes: args.includes,
            config_arg: args.config_arg,
            fds_arg: args.fds_arg,
            options: start.options,
            entry_comments,
            ending: ending.text,
            ending_newline: ending.newline,
            ending_kind: ending.kind,
            builder_var: start.builder_var,
            setup_stmts: start.setup,
            already_step1,
            fn_return: self.current_return(),
            out_dir_ident,
            out_dir_is_existing,
            descriptor_set_file,
        });
        true
    }

    /// The builder and entry call of a chain: a free `compile_protos(..)`/`compile_fds(..)`, a
    /// `configure()…` chain reaching an entry call, or a builder variable reaching one.
    fn entry_point(
        &self,
        chain: &Chain<'_>,
        vars: &HashMap<String, BuilderVar>,
    ) -> Option<EntryPoint> {
        // Index of the entry call in the chain.
        let entry_idx = chain
            .calls
            .iter()
            .position(|(m, _)| BUILDER_ENTRY.contains(&m.method.to_string().as_str()));
        let entry_at = |i: usize| {
            let m = chain.calls[i].0;
            Entry::from_method(&m.method.to_string()).expect("entry")
        };
        Some(match (&chain.root, entry_idx) {
            (&ChainRoot::Call(c, g, FnKind::CompileProtos, ref path), _)
            | (&ChainRoot::Call(c, g, FnKind::CompileFds, ref path), _) => {
                let k = if matches!(chain.root, ChainRoot::Call(_, _, FnKind::CompileProtos, _)) {
                    Entry::CompileProtosFn
                } else {
                    Entry::CompileFdsFn
                };
                EntryPoint {
                    generation: g,
                    crate_path: path.clone(),
                    root_start: range(c.span()).start,
                    options: vec![],
                    setup: vec![],
                    builder_var: None,
                    entry: k,
                    entry_call: None,
                }
            }
            (&ChainRoot::Call(c, g, FnKind::Configure, ref path), Some(i)) => EntryPoint {
                generation: g,
                crate_path: path.clone(),
                root_start: range(c.span()).start,
                options: chain.calls[..i]
                    .iter()
                    .map(|(m, r)| self.option(m, r.clone()))
                    .collect(),
                setup: vec![],
                builder_var: None,
                entry: entry_at(i),
                entry_call: Some(i),
            },
            (ChainRoot::Var(v), Some(i)) => {
                let b = vars.get(v.as_str())?;
                let mut options = b.options.clone();
                options.extend(
                    chain.calls[..i]
                        .iter()
                        .map(|(m, r)| self.option(m, r.clone())),
                );
                EntryPoint {
                    generation: b.generation,
                    crate_path: b.crate_path.clone(),
                    root_start: b.root_start,
                    options,
                    setup: b.setup.clone(),
                    builder_var: Some(v.clone()),
                    entry: entry_at(i),
                    entry_call: Some(i),
                }
            }
            _ => return None,
        })
    }

    /// What follows the entry call (`after`: from its end to the end of the expression).
    fn ending(&self, chain: &Chain<'_>, entry_call: Option<usize>, after: ByteRange) -> Ending {
        // Methods after a free `compile_protos(..)` other than the ending are not a builder.
        let trailing: Vec<String> = match entry_call {
            Some(i) => chain.calls[i + 1..]
                .iter()
                .map(|(m, _)| m.method.to_string())
                .collect(),
            None => chain
                .calls
                .iter()
                .map(|(m, _)| m.method.to_string())
                .collect(),
        };
        let raw_ending = src_of(self.src, &after);
        let text = raw_ending.trim_start().to_string();
        let newline = raw_ending[..raw_ending.len() - text.len()].contains('\n');
        let kind = match (trailing.as_slice(), text.trim()) {
            ([], "") => EndingKind::None,
            ([], "?") => EndingKind::Try,
            ([m], _) if m == "unwrap" && !text.trim_end().ends_with('?') => EndingKind::Unwrap,
            ([m], _) if m == "expect" && !text.trim_end().ends_with('?') => EndingKind::Expect,
            _ => EndingKind::Other,
        };
        Ending {
            text,
            newline,
            kind,
        }
    }

    fn option_arg(&self, e: &Expr) -> OptionArg {
        let r = range(e.span());
        OptionArg {
            source: self.text(&r),
            base_indent: line_indent(self.src, r.start),
            range: r,
        }
    }

    /// The `.proto` files, include directories, config and descriptor set values of the entry
    /// call's arguments (`end`: where the entry call ends). A config variable set up by
    /// statements is folded into `start`'s options and set-up statements.
    fn entry_args(
        &mut self,
        start: &mut EntryPoint,
        entry_args: &[&Expr],
        end: usize,
        env: &Env,
    ) -> EntryArgs {
        let lets = &env.lets;
        let mut config_arg = None;
        let mut fds_arg = None;
        let empty = |why: &str| PathList {
            source: String::new(),
            base_indent: String::new(),
            range: end..end,
            items: vec![],
            unresolved: Some(why.to_string()),
        };
        let (protos, includes) = match start.entry {
            Entry::CompileProtosFn => match entry_args.first() {
                Some(p) => self.compile_protos_fn_paths(p, lets),
                None => (empty("no argument"), empty("no argument")),
            },
            Entry::Compile | Entry::CompileProtos => match entry_args {
                [p, i] => (self.path_list(p, lets), self.path_list(i, lets)),
                _ => (empty("unexpected arguments"), empty("unexpected arguments")),
            },
            Entry::CompileWithConfig | Entry::CompileProtosWithConfig => match entry_args {
                [c, p, i] => {
                    // A config variable set up by statements is folded into the builder:
                    // its options are classified like the builder's own.
                    let var = match c {
                        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
                        _ => None,
                    };
                    match var.and_then(|v| env.configs.get(&v)) {
                        Some(cfg) => {
                            let mut merged = cfg.options.clone();
                            merged.append(&mut start.options);
                            start.options = merged;
                            let mut s = cfg.setup.clone();
                            s.append(&mut start.setup);
                            start.setup = s;
                            self.consumed.insert(cfg.root_start);
                        }
                        None => config_arg = Some(self.option_arg(c)),
                    }
                    (self.path_list(p, lets), self.path_list(i, lets))
                }
                _ => (empty("unexpected arguments"), empty("unexpected arguments")),
            },
            Entry::CompileFds | Entry::CompileFdsFn | Entry::CompileFdsWithConfig => {
                let why =
                    "generation from a FileDescriptorSet value: the .proto files are not named";
                match entry_args {
                    [f] => fds_arg = Some(self.option_arg(f)),
                    [a, b] => {
                        // 0.12/0.13: (config, fds); 0.14: (fds, config).
                        let (c, f) = match start.generation {
                            Generation::TonicBuild => (a, b),
                            Generation::TonicProstBuild => (b, a),
                        };
                        config_arg = Some(self.option_arg(c));
                        fds_arg = Some(self.option_arg(f));
                    }
                    _ => {}
                }
                (empty(why), empty(why))
            }
        };
        EntryArgs {
            protos,
            includes,
            config_arg,
            fds_arg,
        }
    }

    /// The free `compile_protos(path)`: the file, and its parent directory as the include.
    fn compile_protos_fn_paths(
        &self,
        p: &Expr,
        lets: &HashMap<String, Expr>,
    ) -> (PathList, PathList) {
        let item = self.path_arg(p, lets, 0);
        let pr = range(p.span());
        let include = match &item.value {
            PathValue::Resolved { literal, .. } => {
                let parent = Path::new(literal)
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                PathArg {
                    source: String::new(),
                    range: pr.clone(),
                    value: PathValue::Resolved {
                        path: self.crate_dir.join(&parent),
                        literal: parent,
                    },
                }
            }
            PathValue::Unresolved(why) => PathArg {
                source: String::new(),
                range: pr.clone(),
                value: PathValue::Unresolved(format!(
                    "the parent directory of an unresolved path ({why})"
                )),
            },
        };
        (
            PathList {
                source: self.text(&pr),
                base_indent: String::new(),
                range: pr.clone(),
                items: vec![item],
                unresolved: None,
            },
            PathList {
                source: String::new(),
                base_indent: String::new(),
                range: pr,
                items: vec![include],
                unresolved: None,
            },
        )
    }

    fn path_list(&self, e: &Expr, lets: &HashMap<String, Expr>) -> PathList {
        let r = range(e.span());
        let mut items = vec![];
        let unresolved = self.list_items(e, lets, 0, &mut items).err();
        PathList {
            source: self.text(&r),
            base_indent: line_indent(self.src, r.start),
            range: r,
            items,
            unresolved,
        }
    }

    fn list_items(
        &self,
        e: &Expr,
        lets: &HashMap<String, Expr>,
        depth: usize,
        out: &mut Vec<PathArg>,
    ) -> Result<(), String> {
        if depth > 8 {
            return Err("too many indirections".into());
        }
        match e {
            Expr::Reference(r) => self.list_items(&r.expr, lets, depth + 1, out),
            Expr::Paren(p) => self.list_items(&p.expr, lets, depth + 1, out),
            Expr::Group(g) => self.list_items(&g.expr, lets, depth + 1, out),
            Expr::Array(a) => {
                for el in &a.elems {
                    out.push(self.path_arg(el, lets, depth + 1));
                }
                Ok(())
            }
            Expr::Macro(m) if m.mac.path.is_ident("vec") => {
                let elems = m
                    .mac
                    .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
                    .map_err(|_| "vec![..] with a repeat expression".to_string())?;
                for el in &elems {
                    out.push(self.path_arg(el, lets, depth + 1));
                }
                Ok(())
            }
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().expect("ident").to_string();
                match lets.get(&name).or_else(|| self.names.consts.get(&name)) {
                    Some(def) => self.list_items(def, lets, depth + 1, out),
                    None => Err(format!("`{name}` is not a literal list in this file")),
                }
            }
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "as_ref" | "as_slice" | "to_vec"
                ) =>
            {
                self.list_items(&m.receiver, lets, depth + 1, out)
            }
            other => Err(format!(
                "`{}` is computed at build time",
                self.text(&range(other.span()))
            )),
        }
    }

    fn path_arg(&self, e: &Expr, lets: &HashMap<String, Expr>, depth: usize) -> PathArg {
        let r = range(e.span());
        let value = match self.path_value(e, lets, depth) {
            Ok(lit) => PathValue::Resolved {
                path: if Path::new(&lit).is_absolute() {
                    PathBuf::from(&lit)
                } else {
                    self.crate_dir.join(&lit)
                },
                literal: lit,
            },
            Err(why) => PathValue::Unresolved(why),
        };
        PathArg {
            source: self.text(&r),
            range: r,
            value,
        }
    }

    fn path_value(
        &self,
        e: &Expr,
        lets: &HashMap<String, Expr>,
        depth: usize,
    ) -> Result<String, String> {
        if depth > 8 {
            return Err("too many indirections".into());
        }
        let computed = |e: &Expr| {
            format!(
                "`{}` is computed at build time",
                self.text(&range(e.span()))
            )
        };
        match e {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(s.value()),
            Expr::Reference(r) => self.path_value(&r.expr, lets, depth + 1),
            Expr::Paren(p) => self.path_value(&p.expr, lets, depth + 1),
            Expr::Group(g) => self.path_value(&g.expr, lets, depth + 1),
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else {
                    return Err(computed(e));
                };
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let tail: Vec<&str> = segs.iter().rev().take(2).map(String::as_str).collect();
                match (tail.as_slice(), c.args.len()) {
                    (
                        ["from", "PathBuf"]
                        | ["new", "Path"]
                        | ["from", "String"]
                        | ["new", "PathBuf"],
                        1,
                    ) => self.path_value(&c.args[0], lets, depth + 1),
                    _ => Err(computed(e)),
                }
            }
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "to_string" | "to_owned" | "into" | "as_ref" | "to_path_buf"
                    ) =>
            {
                self.path_value(&m.receiver, lets, depth + 1)
            }
            Expr::Macro(m) => {
                let name = m.mac.path.segments.last().map(|s| s.ident.to_string());
                match name.as_deref() {
                    Some("concat") => self.concat(&m.mac),
                    Some("format") => Err(format!(
                        "`{}` is formatted at build time",
                        self.text(&range(e.span()))
                    )),
                    _ => Err(computed(e)),
                }
            }
            Expr::Path(p) if p.path.get_ident().is_some() => {
                let name = p.path.get_ident().expect("ident").to_string();
                match lets.get(&name).or_else(|| self.names.consts.get(&name)) {
                    Some(def) => self.path_value(def, lets, depth + 1),
                    None => Err(format!("`{name}` is not a literal in this file")),
                }
            }
            _ => Err(computed(e)),
        }
    }

    /// `concat!` of string literals and `env!("CARGO_MANIFEST_DIR")`.
    fn concat(&self, mac: &syn::Macro) -> Result<String, String> {
        let parts = mac
            .parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated)
            .map_err(|_| "concat! with unparsable arguments".to_string())?;
        let mut out = String::new();
        for p in &parts {
            match p {
                Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(s), ..
                }) => out.push_str(&s.value()),
                Expr::Macro(m) if m.mac.path.is_ident("env") => {
                    let var: syn::LitStr = m
                        .mac
                        .parse_body()
                        .map_err(|_| "env! with a non-literal name".to_string())?;
                    if var.value() == "CARGO_MANIFEST_DIR" {
                        out.push_str(&self.crate_dir.to_string_lossy());
                    } else {
                        return Err(format!(
                            "concat! reads the environment variable {} at compile time",
                            var.value()
                        ));
                    }
                }
                other => {
                    return Err(format!(
                        "concat! with a non-literal part `{}`",
                        self.text(&range(other.span()))
                    ))
                }
            }
        }
        Ok(out)
    }
}

/// A config variable used in a way the scan does not follow (passed to a function, printed,
/// moved) is no longer folded into the builder: its call keeps the config argument.
pub(super) fn taint_configs(env: &mut Env, stmt: &Stmt) {
    if env.configs.is_empty() {
        return;
    }
    fn idents(ts: TokenStream, out: &mut HashSet<String>) {
        for tt in ts {
            match tt {
                proc_macro2::TokenTree::Ident(i) => {
                    out.insert(i.to_string());
                }
                proc_macro2::TokenTree::Group(g) => idents(g.stream(), out),
                _ => {}
            }
        }
    }
    let mut seen = HashSet::new();
    idents(quote::ToTokens::to_token_stream(stmt), &mut seen);
    env.configs.retain(|name, _| !seen.contains(name));
}

pub(super) fn line_indent(src: &str, at: usize) -> String {
    let line_start = src[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    src[line_start..at]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect()
}

/// The string literals in a piece of source text, in order (`out.join("x.bin")` → `["x.bin"]`).
pub(super) fn string_literals(source: &str) -> Vec<String> {
    struct L(Vec<String>);
    impl<'ast> Visit<'ast> for L {
        fn visit_lit_str(&mut self, l: &'ast syn::LitStr) {
            self.0.push(l.value());
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            if let Ok(args) = m.parse_body_with(Punctuated::<Expr, Token![,]>::parse_terminated) {
                for a in &args {
                    self.visit_expr(a);
                }
            }
        }
    }
    let mut l = L(vec![]);
    if let Ok(e) = syn::parse_str::<Expr>(source) {
        l.visit_expr(&e);
    }
    l.0
}

pub(super) fn first_string_literal(source: &str) -> Option<String> {
    string_literals(source).into_iter().next()
}

pub(super) fn last_string_literal(source: &str) -> Option<String> {
    string_literals(source).pop()
}

impl<'ast> Visit<'ast> for Scanner<'_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.fn_return.push(fn_return(&f.sig.output));
        self.envs.push(Env::default());
        syn::visit::visit_item_fn(self, f);
        self.envs.pop();
        self.fn_return.pop();
    }
    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.fn_return.push(fn_return(&f.sig.output));
        self.envs.push(Env::default());
        syn::visit::visit_impl_item_fn(self, f);
        self.envs.pop();
        self.fn_return.pop();
    }
    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        self.fn_return.push(match &c.output {
            syn::ReturnType::Default => FnReturn::Unknown,
            out => fn_return(out),
        });
        syn::visit::visit_expr_closure(self, c);
        self.fn_return.pop();
    }
    fn visit_block(&mut self, b: &'ast syn::Block) {
        let mut env = self.envs.last().cloned().unwrap_or_default();
        for stmt in &b.stmts {
            self.scan_stmt(stmt, &mut env);
            // Nested blocks see the names defined so far.
            self.envs.push(env);
            syn::visit::visit_stmt(self, stmt);
            env = self.envs.pop().unwrap_or_default();
        }
    }
}

pub(super) fn fn_return(out: &syn::ReturnType) -> FnReturn {
    match out {
        syn::ReturnType::Default => FnReturn::Unit,
        syn::ReturnType::Type(_, ty) => {
            let text = quote::quote!(#ty).to_string().replace(' ', "");
            if text == "()" {
                FnReturn::Unit
            } else if text.starts_with("io::Result<") || text.starts_with("std::io::Result<") {
                FnReturn::IoResult
            } else {
                FnReturn::Other(text)
            }
        }
    }
}
