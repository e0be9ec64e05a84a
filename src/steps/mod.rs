//! The nine migration steps, in order.
//!
//! Each step is a rule set from `rules/stepNN.toml` (the mechanical renames) plus, where code is
//! needed, a module of its own named with its number (`step01_codegen.rs`, ...). A step that is
//! not implemented yet says so: `plan` lists it and `--step N` refuses with exit code 2 rather than
//! pretending to have migrated anything.

pub mod details;
pub mod metadata;
pub mod step01;
pub mod step02;
pub mod step03;
pub mod step05;
pub mod step06;
pub mod step07;
pub mod step08;
pub mod step09;

use aho_corasick::AhoCorasick;

use crate::engine::Pass;
use crate::rules::rename::RenamePass;
use crate::rules::StepRules;

/// What each step does, as the README's table says it.
pub const TITLES: [&str; 10] = [
    "",
    "Generate Connect code (buffa messages, tonic on the shim codec)",
    "Service impls take connect requests and return connect responses",
    "Connect errors (server side)",
    "Streaming handlers",
    "main on the Connect server",
    "Downstream calls on connect clients",
    "Client error inspection",
    "Streaming calls",
    "Stop generating gRPC code",
];

/// One migration step, ready to run.
pub struct Step {
    pub number: u8,
    pub rules: StepRules,
    /// Whether this version of the tool implements the step (fully or in part).
    pub implemented: bool,
    /// What the step does not do yet, for `plan` and the run summary.
    pub limits: &'static str,
    crates: Vec<Vec<u8>>,
    idents: Option<AhoCorasick>,
}

impl Step {
    pub fn new(number: u8, rules: StepRules) -> Step {
        let (implemented, limits) = match number {
            1 => (
                true,
                "tonic 0.12/0.13 crates are not upgraded to 0.14; message reads whose type is unknown are reported",
            ),
            2 => (
                true,
                "only simple unary bodies are rewritten natively; the others are kept tonic-style inside connect_shim::server adapters; streaming handler tests are reported",
            ),
            3 => (
                true,
                "Status/Code renames with constructors; unary handlers on step 2's adapters unwrapped natively where every request use has a connect idiom, the others moved to connect_shim::server::connect_errors; tonic-types details (`Status::with_error_details`, `ErrorDetails`) move to a `google_rpc` module the step writes into the crate; `impl From<E> for Status` bodies and error metadata (`metadata_mut()`) are reported, not rewritten",
            ),
            4 => (
                true,
                "streaming handlers on step 3's adapters unwrapped natively where the inbound stream is read as `let s = request.into_inner();` and the answer is `Response::new(stream)`; the others stay on connect_shim::server::connect_errors (listed)",
            ),
            5 => (
                true,
                "TLS servers and servers built across several statements are reported, not converted; a tonic interceptor in front of a connect service runs through connect_shim::server::TonicInterceptor (step 9 makes it a connectrpc interceptor); services still on tonic stay hosted through tonic's routes on the same axum app",
            ),
            6 => (
                true,
                "unary calls are native only where every use of the request and response is understood (per-call metadata and timeouts become CallOptions, request-building helpers of the file's root module return the message and its CallOptions; the others, and every streaming call, stay tonic-shaped through connect_shim::client); channels from the user's helper functions and header-only interceptor structs become an (HttpClient, ClientConfig) pair and default headers, all or nothing per group of crates; other shared channels and per-call interceptors keep the tonic channel as the transport; tonic-health and tonic-reflection clients move to connectrpc-health/-reflection; errors are still tonic::Status until step 7",
            ),
            7 => (
                true,
                "Code/Status renames in client code; step 6's `map_err(to_status)` removed, its tonic-shaped wrappers moved to their ConnectError twins, `code()`/`message()` of the errors of those calls rewritten; tonic-types detail reads go through the crate's `google_rpc` module, `metadata().get(key)` reads trailers then headers; a file that reads other tonic-only error parts keeps tonic errors (listed)",
            ),
            8 => (
                true,
                "server-stream, client-stream and bidi calls on step 6/7's connect_shim wrappers become native where the request is a plain message or stream and the answer is read with `into_inner()` and `message().await`; requests carrying metadata, response metadata and other uses stay on the wrappers (listed)",
            ),
            9 => (
                true,
                "removes tonic codegen, the tonic stub includes and the tonic/prost/connect-shim dependencies only once nothing names them; servers on connect_shim::hosting::connect_app get the hosting code as a module of the crate (connect_compat); handler tests on tonic_call_connect! with a plain Request::new call the handler natively; unused family imports and unused private aliases of tonic::Response go; what else still names them is listed, not rewritten",
            ),
            _ => (false, "not implemented in this version"),
        };
        let mut crates: Vec<Vec<u8>> = rules.crates.iter().map(|c| c.as_bytes().to_vec()).collect();
        let mut idents_list = rules.idents.clone();
        if number == 5 {
            // `tonic` also finds tonic_health, tonic_reflection and tonic_web.
            crates.push(b"tonic".to_vec());
            idents_list.extend(["builder", "health_reporter", "configure"].map(String::from));
        }
        let idents = if idents_list.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(&idents_list).expect("identifiers build an automaton"))
        };
        Step {
            number,
            rules,
            implemented,
            limits,
            crates,
            idents,
        }
    }

    pub fn title(&self) -> &'static str {
        TITLES[self.number as usize]
    }

    /// Can this file hold a construct of the step? A byte scan, no parsing: the file must name
    /// one of the crates the rules start from and one of the identifiers they mention.
    /// `crate_ctx`: the step prepared context for the file's crate (step 1 then reads every
    /// file of the crate: messages are used under names no byte scan can guess).
    pub fn prefilter(&self, text: &[u8], crate_ctx: bool) -> bool {
        if !self.implemented {
            return false;
        }
        if crate_ctx {
            return true;
        }
        if matches!(self.number, 3 | 4 | 7) && memchr::memmem::find(text, b"connect_shim").is_some()
        {
            return true;
        }
        if self.number == 9 {
            return step09::prefilter(text);
        }
        if self.number == 8 {
            return step08::prefilter(text);
        }
        let names_crate = self
            .crates
            .iter()
            .any(|c| memchr::memmem::find(text, c).is_some());
        names_crate && self.idents.as_ref().is_some_and(|ac| ac.is_match(text))
    }

    pub fn passes<'a>(&'a self, ctx: Option<&'a step01::CrateCtx>) -> Vec<Box<dyn Pass + 'a>> {
        if !self.implemented {
            return Vec::new();
        }
        let mut v: Vec<Box<dyn Pass + 'a>> = Vec::new();
        // Step 1's renames (prost to buffa) belong to the crates whose messages the step moves to
        // buffa (a prepared context: own codegen, or a workspace crate's). Elsewhere buffa is no
        // dependency and the messages stay prost's (checked-in stubs, or another crate's: listed
        // by prepare as `step01/stubs-elsewhere`), so `prost::Message` must stay too.
        if self.number != 1 || ctx.is_some() {
            v.push(Box::new(RenamePass { rules: &self.rules }));
        }
        if let (1, Some(ctx)) = (self.number, ctx) {
            v.push(Box::new(step01::messages::MessagesPass { ctx }));
            v.push(Box::new(step01::BuildRsPass { ctx }));
            v.push(Box::new(step01::ModulePass { ctx }));
            v.push(Box::new(step01::stub_globs::StubGlobsPass { ctx }));
        }
        if self.number == 1 {
            v.push(Box::new(step01::descriptors::DescriptorsPass));
        }
        if let (2, Some(ctx)) = (self.number, ctx) {
            v.push(Box::new(step02::ServicesPass { ctx }));
        }
        if matches!(self.number, 3 | 4) {
            v.push(Box::new(step03::HandlersPass { step: self.number }));
        }
        if self.number == 7 {
            v.push(Box::new(step07::ClientErrorsPass));
        }
        if self.number == 5 {
            v.push(Box::new(step05::HostingPass { ctx }));
        }
        if self.number == 8 {
            v.push(Box::new(step08::StreamsPass));
        }
        if self.number == 9 {
            v.push(Box::new(step09::CleanupPass { ctx }));
        }
        if let (6, Some(ctx)) = (self.number, ctx) {
            v.push(Box::new(step06::ClientsPass { ctx }));
        }
        v
    }

    /// Work on the whole workspace before the files: per-crate context and manifest changes.
    pub fn prepare(&self, ws: &crate::workspace::Workspace) -> step01::Prepared {
        match self.number {
            1 => step01::prepare(ws),
            2 => step02::prepare(ws),
            3 | 7 => details::prepare(self, ws),
            4 => step03::prepare_step4(ws),
            5 => step05::prepare(self, ws),
            9 => step09::prepare(ws),
            6 => step06::prepare(ws),
            8 => step08::prepare(self, ws),
            _ => step01::Prepared::default(),
        }
    }
}

/// All steps, index = step number (index 0 unused).
pub fn all() -> anyhow::Result<Vec<Step>> {
    let rules = crate::rules::load_embedded()?;
    Ok(rules
        .into_iter()
        .enumerate()
        .skip(1)
        .map(|(n, r)| Step::new(n as u8, r))
        .collect())
}

/// The step with this number (1..=9).
pub fn get(steps: &[Step], n: u8) -> &Step {
    &steps[n as usize - 1]
}

/// Removals of the private imports a pass's edits (so far in `out`) left unused: a name whose
/// every use outside `use` items lay in text the pass rewrote, or a leaf `also` accepts (by its
/// full path) that nothing outside the rewritten text names. A name an edit writes stays.
/// Removals overlapping an edit are dropped.
pub fn emptied_import_removals(
    file: &crate::engine::FileCtx<'_>,
    out: &crate::engine::PassOutput,
    also: impl Fn(&[&str]) -> bool,
    rule: &str,
) -> Vec<crate::edit::Edit> {
    use std::collections::{HashMap, HashSet};
    let touched: Vec<std::ops::Range<usize>> =
        out.buffer.edits().iter().map(|e| e.range.clone()).collect();
    if touched.is_empty() {
        return Vec::new();
    }
    let written = |name: &str| {
        out.buffer.edits().iter().any(|e| {
            let t = e.text.as_bytes();
            memchr::memmem::find_iter(t, name.as_bytes()).any(|i| {
                let id = |c: u8| c == b'_' || c.is_ascii_alphanumeric();
                let end = i + name.len();
                (i == 0 || !id(t[i - 1])) && (end >= t.len() || !id(t[end]))
            })
        })
    };
    let emptied: HashSet<String> = {
        let mut toks = Vec::new();
        step03::flatten(quote::ToTokens::to_token_stream(file.file), &mut toks);
        let in_use = |at: usize| file.index.use_items.iter().any(|u| u.range.contains(&at));
        let mut seen: HashMap<&str, bool> = HashMap::new();
        for t in &toks {
            let step03::Tok::Ident(n, r) = t else {
                continue;
            };
            if in_use(r.start) {
                continue;
            }
            let inside = touched.iter().any(|e| e.start <= r.start && r.end <= e.end);
            *seen.entry(n.as_str()).or_insert(true) &= inside;
        }
        // A trait's import may serve method calls elsewhere even when its name is gone: the
        // usual trait names are never taken for emptied.
        const TRAITS: &[&str] = &[
            "Message",
            "Name",
            "Service",
            "Layer",
            "Interceptor",
            "Future",
            "Stream",
            "Sink",
            "Read",
            "Write",
            "Buf",
            "BufMut",
            "Iterator",
            "IntoIterator",
            "FromIterator",
            "Extend",
            "Borrow",
            "Deref",
            "Display",
            "Debug",
            "Error",
            "Hash",
            "Body",
            "Serialize",
            "Deserialize",
            "Encode",
            "Decode",
            "View",
            "MessageView",
            "Executor",
        ];
        seen.into_iter()
            .filter(|(n, all)| *all && !n.ends_with("Ext") && !TRAITS.contains(n))
            .map(|(n, _)| n.to_string())
            .collect()
    };
    crate::rules::rename::unused_import_removals_named(
        file.file,
        file.index,
        file.text,
        &touched,
        |segs, name| (emptied.contains(name) || also(segs)) && !written(name),
        rule,
    )
    .into_iter()
    .filter(|e| {
        !touched
            .iter()
            .any(|r| r.start < e.range.end && e.range.start < r.end)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use crate::engine::{process, FileMeta, Outcome};
    use std::sync::Arc;

    fn step1(text: &str, ctx: Option<super::step01::CrateCtx>) -> String {
        let s = super::all().unwrap().into_iter().next().unwrap();
        let meta = FileMeta {
            crate_ctx: ctx.map(Arc::new),
            ..Default::default()
        };
        match process(&s, text, &meta) {
            Outcome::Rewritten {
                new_text: Some(t), ..
            } => t,
            _ => text.to_string(),
        }
    }

    /// Before: `use prost::Message as _;` became `use buffa::Message as _;` in a crate whose
    /// stubs are checked in (or come from another crate), where step 1 adds no buffa
    /// dependency and the messages stay prost's: E0432 and E0599 on `decode`. After: such a
    /// crate keeps prost; a crate whose messages step 1 moves still gets the rename.
    #[test]
    fn prost_renames_only_where_step_1_moves_the_messages() {
        let src = "use prost::Message as _;\nfn f(b: &[u8]) { let _ = X::decode(b); }\n";
        assert_eq!(step1(src, None), src);
        assert_eq!(
            step1(src, Some(Default::default())),
            src.replace("prost::Message", "buffa::Message")
        );
    }

    /// Before: a custom tonic codec wrapping `ProstCodec<T, U>` (bounds `T: Message`) got
    /// `use buffa::Message;` and no longer compiled (E0277: ProstCodec wants prost's trait).
    /// After: code written against prost's codec keeps prost's trait.
    #[test]
    fn prost_codec_code_keeps_prost_message() {
        let src = "use prost::Message;\nuse tonic_prost::ProstCodec;\npub struct C<T>(ProstCodec<T, T>);\nfn f<T: Message>() {}\n";
        assert_eq!(step1(src, Some(Default::default())), src);
    }
}
