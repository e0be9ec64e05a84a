//! Step 1, local type knowledge: the types of receivers that the message idioms
//! ([`super::messages`]) and field renames ([`super::names`]) need, from syntax, the schema and
//! the crate's symbol index. Known are `self` in an impl, typed parameters (closures' too),
//! annotated or literal-initialised lets, fields of the crate's structs (tuple fields of this
//! file's structs included), fields of messages, methods and functions of the crate with a
//! declared return type, and bindings of a oneof's message variant in a pattern
//! (`Kind::Put(r)`: `r` is the variant's message, boxed in buffa).
//!
//! Calls through a generated tonic client are typed by the schema: a field or local of type
//! `x_client::XClient<..>` is the service's client, `client.rpc(..)` its method's
//! `tonic::Response` of the output message (unary, client streaming) or of a
//! `tonic::Streaming` of it (server streaming, bidi); `.into_inner()` / `.get_ref()` reach the
//! inside, a stream's `.message()` / `.next()` / `.try_next()` its item. A future (`.await`), an
//! `Option` and a `Result` (`?`, `unwrap`, `Some(x)` / `Ok(x)` patterns) are known as what they
//! hold, as everywhere here: only that can have fields.
//!
//! Before:
//! ```text
//! let mut s = self.inner.lease_keep_alive(rx).await?.into_inner();
//! match s.message().await? { Some(resp) => resp.ttl, None => 0 }
//! ```
//! After: `resp` is known as `LeaseKeepAliveResponse` (the RPC's output), so its `ttl` is renamed
//! to buffa's `TTL` rather than listed as unsure.
//!
//! Before (a walker keeps one [`Types`] in step with its visit):
//! ```text
//! struct Resp(pb::PutResponse);
//! impl Resp { fn kv(&self) -> Option<&pb::KeyValue> { self.0.prev_kv.as_ref() } }
//! ```
//! After: `self.0` is known as `PutResponse` and `self.0.prev_kv` as its message field, so the
//! message pass writes `.as_option()` even where another message's `prev_kv` is a `bool`.

use std::collections::HashMap;

use syn::spanned::Spanned;

use super::messages::Named;
use super::CrateCtx;
use crate::resolve::{range, FileIndex, Resolution, ScopeId};
use crate::schema::{FieldKind, Label, Message, Schema, Service, StreamingKind};

/// A type as far as field reads need it.
#[derive(Clone, Debug)]
pub(super) enum Ty<'s> {
    Message(&'s Message),
    /// A oneof's message variant bound by a pattern: buffa boxes it (`Box<M>`).
    Boxed(&'s Message),
    /// A struct of the crate (its absolute path).
    Struct(Vec<String>),
    /// A tonic client generated for this service (`x_client::XClient<T>`).
    Client(&'s Service),
    /// What a client's call gives: `tonic::Response<T>` (its future and `Result` too).
    Response(Box<Ty<'s>>),
    /// `tonic::Streaming<M>`: its items are `M`.
    Stream(&'s Message),
    /// A sequence of messages: a repeated message field, `Vec<M>`, `VecDeque<M>`,
    /// `LinkedList<M>`, `[M]`, and iterators over them.
    List(&'s Message),
}

impl<'s> Ty<'s> {
    /// The message, boxed or not.
    pub(super) fn message(&self) -> Option<&'s Message> {
        match self {
            Ty::Message(m) | Ty::Boxed(m) => Some(m),
            _ => None,
        }
    }
}

type Fields = HashMap<Vec<String>, Vec<(String, syn::Type, ScopeId)>>;

/// This file's functions and inherent methods: absolute path -> the types of their parameters
/// (the receiver left out) and the scope they are written in.
type Fns = HashMap<Vec<String>, (Vec<syn::Type>, ScopeId)>;

/// Sequence types whose element is their first type argument.
const LISTS: &[&str] = &["Vec", "VecDeque", "LinkedList"];

/// Methods of a sequence (or of an iterator over one) that give a sequence of the same
/// elements (an `Option` or `Result` of one is known as it).
const LIST_KEEPING: &[&str] = &[
    "iter",
    "iter_mut",
    "into_iter",
    "rev",
    "skip",
    "take",
    "peekable",
    "clone",
    "as_slice",
    "as_mut_slice",
];

/// Methods of a sequence (or of an iterator over one) that give one element (in an `Option`,
/// known as the element).
const LIST_ELEMENT: &[&str] = &[
    "next",
    "next_back",
    "first",
    "last",
    "first_mut",
    "last_mut",
    "get",
    "get_mut",
    "front",
    "back",
    "front_mut",
    "back_mut",
    "pop",
    "pop_front",
    "pop_back",
    "nth",
];

/// Associated functions of a tonic client that make one.
const CLIENT_CONSTRUCTORS: &[&str] = &["new", "connect", "with_interceptor", "with_origin"];

/// Methods of a tonic client that give the client back (its builders).
const CLIENT_BUILDERS: &[&str] = &[
    "send_compressed",
    "accept_compressed",
    "max_decoding_message_size",
    "max_encoding_message_size",
];

/// tonic's generic wrappers of messages that the types here see through.
enum Wrapper {
    Streaming,
    Response,
}

fn tonic_wrapper(full: &[String]) -> Option<Wrapper> {
    let segs: Vec<&str> = full.iter().map(String::as_str).collect();
    match segs[..] {
        ["tonic", "Streaming"] | ["tonic", "codec", "Streaming"] => Some(Wrapper::Streaming),
        ["tonic", "Response"] => Some(Wrapper::Response),
        _ => None,
    }
}

/// The type environment of one walk over a file.
pub(super) struct Types<'a> {
    ctx: &'a CrateCtx,
    schema: Option<&'a Schema>,
    idx: &'a FileIndex,
    /// This file's structs: absolute path -> fields (name or tuple index) with their types and
    /// the scope they are written in.
    structs: Fields,
    /// This file's traits: absolute path -> methods with their declared return types.
    traits: Fields,
    fns: Fns,
    /// The parameter types of closures passed where a function of this file declares an
    /// `impl Fn(A, ..)` parameter, by the closure's start ([`Types::call_closures`]).
    closure_params: HashMap<usize, Vec<Option<Ty<'a>>>>,
    /// The self type of each enclosing impl (`None`: not a struct or message we know).
    self_ty: Vec<Option<Ty<'a>>>,
    /// The last segment of each enclosing impl's trait (`None`: an inherent impl, a trait).
    impl_trait: Vec<Option<String>>,
    /// Per enclosing function or closure: locals of known type (`None`: shadowed by a binding
    /// of unknown type).
    env: Vec<HashMap<String, Option<Ty<'a>>>>,
    /// Per enclosing function: parameters taken by value (a declared type that is not a
    /// reference), so a `match` on one binds its parts by value.
    owned: Vec<std::collections::HashSet<String>>,
}

/// This file's structs and their fields (named, or `0`, `1`, .. for tuple structs), and its
/// traits with their methods' declared return types (`()` left out).
fn collect_structs(
    idx: &FileIndex,
    items: &[syn::Item],
    scope: ScopeId,
    out: &mut Fields,
    traits: &mut Fields,
    fns: &mut Fns,
) {
    let typed = |sig: &syn::Signature| -> Vec<syn::Type> {
        sig.inputs
            .iter()
            .filter_map(|a| match a {
                syn::FnArg::Typed(t) => Some((*t.ty).clone()),
                syn::FnArg::Receiver(_) => None,
            })
            .collect()
    };
    for it in items {
        match it {
            syn::Item::Fn(f) => {
                let mut path = idx.module_path(scope).to_vec();
                path.push(f.sig.ident.to_string());
                fns.insert(path, (typed(&f.sig), scope));
            }
            syn::Item::Impl(i) if i.trait_.is_none() => {
                let syn::Type::Path(tp) = &*i.self_ty else {
                    continue;
                };
                let Some(owner) = idx.resolve_full(scope, &tp.path) else {
                    continue;
                };
                for ii in &i.items {
                    if let syn::ImplItem::Fn(f) = ii {
                        let mut path = owner.clone();
                        path.push(f.sig.ident.to_string());
                        fns.insert(path, (typed(&f.sig), scope));
                    }
                }
            }
            syn::Item::Trait(t) => {
                let mut path = idx.module_path(scope).to_vec();
                path.push(t.ident.to_string());
                let methods = t
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        syn::TraitItem::Fn(f) => match &f.sig.output {
                            syn::ReturnType::Type(_, ty) => {
                                Some((f.sig.ident.to_string(), (**ty).clone(), scope))
                            }
                            syn::ReturnType::Default => None,
                        },
                        _ => None,
                    })
                    .collect();
                traits.insert(path, methods);
            }
            syn::Item::Struct(s) => {
                let mut path = idx.module_path(scope).to_vec();
                path.push(s.ident.to_string());
                let fields = s
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let name = f
                            .ident
                            .as_ref()
                            .map_or_else(|| i.to_string(), |n| n.to_string());
                        (name, f.ty.clone(), scope)
                    })
                    .collect();
                out.insert(path, fields);
            }
            syn::Item::Mod(m) => {
                if let Some((brace, items)) = &m.content {
                    if let Some(&s) = idx.scope_at.get(&range(brace.span.open()).start) {
                        collect_structs(idx, items, s, out, traits, fns);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The argument types of `impl Fn(A, ..)` (`FnMut`, `FnOnce`).
fn fn_bound_inputs(ty: &syn::Type) -> Option<Vec<syn::Type>> {
    let syn::Type::ImplTrait(it) = ty else {
        return None;
    };
    it.bounds.iter().find_map(|b| {
        let syn::TypeParamBound::Trait(t) = b else {
            return None;
        };
        let last = t.path.segments.last()?;
        if !["Fn", "FnMut", "FnOnce"].iter().any(|f| last.ident == f) {
            return None;
        }
        match &last.arguments {
            syn::PathArguments::Parenthesized(a) => Some(a.inputs.iter().cloned().collect()),
            _ => None,
        }
    })
}

/// The first `keep` segments of `p`.
pub(super) fn path_without_last(p: &syn::Path, keep: usize) -> syn::Path {
    syn::Path {
        leading_colon: p.leading_colon,
        segments: p.segments.iter().take(keep).cloned().collect(),
    }
}

/// The `Visit` methods that keep a walker's [`Types`] in step with the code it walks (trait and
/// impl contexts, bindings scoped to an `if let` branch, a loop body, shadowing), for a walker
/// with a `types: Types` and a `tr: ScopeTracker` field, beside [`crate::scoped_visit!`].
#[macro_export]
macro_rules! typed_visit {
    () => {
        fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
            self.types.enter_trait(t, self.tr.current());
            syn::visit::visit_item_trait(self, t);
            self.types.leave_impl();
        }

        fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
            self.types.enter_impl(i, self.tr.current());
            syn::visit::visit_item_impl(self, i);
            self.types.leave_impl();
        }

        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            // Any binding the walker did not type shadows what it knew.
            self.types.shadow(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }

        fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
            // The bindings of an `if let` hold in its branch only.
            let saved = self.types.save();
            for a in &e.attrs {
                self.visit_attribute(a);
            }
            self.visit_expr(&e.cond);
            self.visit_block(&e.then_branch);
            self.types.restore(saved);
            if let Some((_, els)) = &e.else_branch {
                self.visit_expr(els);
            }
        }

        fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
            let ty = self.types.loop_item(&e.expr, self.tr.current());
            let saved = self.types.save();
            for a in &e.attrs {
                self.visit_attribute(a);
            }
            self.visit_expr(&e.expr);
            self.visit_pat(&e.pat);
            self.types.bind_pattern(&e.pat, ty);
            self.visit_block(&e.body);
            self.types.restore(saved);
        }

        fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
            let saved = self.types.save();
            syn::visit::visit_expr_while(self, e);
            self.types.restore(saved);
        }
    };
}

impl<'a> Types<'a> {
    pub(super) fn new(ctx: &'a CrateCtx, idx: &'a FileIndex, file: &syn::File) -> Types<'a> {
        let mut structs = HashMap::new();
        let mut traits = HashMap::new();
        let mut fns = HashMap::new();
        collect_structs(idx, &file.items, 0, &mut structs, &mut traits, &mut fns);
        Types {
            ctx,
            schema: ctx.schema.as_deref(),
            idx,
            structs,
            traits,
            fns,
            closure_params: HashMap::new(),
            self_ty: Vec::new(),
            impl_trait: Vec::new(),
            env: Vec::new(),
            owned: Vec::new(),
        }
    }

    fn resolve(&self, scope: ScopeId, p: &syn::Path) -> Option<Named<'a>> {
        match self.idx.resolve(scope, p)? {
            Resolution::One(r) => self.ctx.named(&r.full),
            Resolution::Ambiguous(_) => None,
        }
    }

    /// The self type of the innermost impl.
    pub(super) fn self_ty(&self) -> Option<Ty<'a>> {
        self.self_ty.last().cloned().flatten()
    }

    pub(super) fn enter_impl(&mut self, i: &syn::ItemImpl, scope: ScopeId) {
        let ty = self.ty_of_type(&i.self_ty, scope);
        self.self_ty.push(ty);
        self.impl_trait.push(
            i.trait_
                .as_ref()
                .and_then(|(_, p, _)| p.segments.last())
                .map(|s| s.ident.to_string()),
        );
    }

    pub(super) fn leave_impl(&mut self) {
        self.self_ty.pop();
        self.impl_trait.pop();
    }

    /// A trait's body: `self` in its default methods is known by the trait's own methods
    /// (`self.obj().id` reads a field of what `obj` returns). Left with [`Types::leave_impl`].
    pub(super) fn enter_trait(&mut self, t: &syn::ItemTrait, scope: ScopeId) {
        let mut path = self.idx.module_path(scope).to_vec();
        path.push(t.ident.to_string());
        self.self_ty.push(Some(Ty::Struct(path)));
        self.impl_trait.push(None);
    }

    /// The last segment of the innermost impl's trait (`Greeter` in `impl pb::Greeter for S`).
    pub(super) fn impl_trait(&self) -> Option<&str> {
        self.impl_trait.last().and_then(|t| t.as_deref())
    }

    /// The declared return type of method `name` of this file's trait `owner`; with no
    /// owner, of the one trait of this file that declares a method of that name.
    fn trait_method(&self, owner: Option<&[String]>, name: &str) -> Option<Ty<'a>> {
        let mut found = self
            .traits
            .iter()
            .filter(|(t, _)| owner.is_none_or(|o| o == &t[..]));
        let mut rets = found
            .by_ref()
            .filter_map(|(_, ms)| ms.iter().find(|(n, _, _)| n == name));
        let (_, ty, scope) = rets.next()?;
        if rets.next().is_some() {
            return None;
        }
        self.ty_of_type(ty, *scope)
    }

    /// A function's body begins: its typed parameters are known.
    pub(super) fn enter_fn(&mut self, sig: &syn::Signature, scope: ScopeId) {
        self.env.push(HashMap::new());
        let mut owned = std::collections::HashSet::new();
        for a in &sig.inputs {
            if let syn::FnArg::Typed(t) = a {
                if let syn::Pat::Ident(pi) = &*t.pat {
                    let ty = self.ty_of_type(&t.ty, scope);
                    self.bind(pi.ident.to_string(), ty);
                    if pi.by_ref.is_none() && matches!(&*t.ty, syn::Type::Path(_)) {
                        owned.insert(pi.ident.to_string());
                    }
                }
            }
        }
        self.owned.push(owned);
    }

    pub(super) fn leave_fn(&mut self) {
        self.env.pop();
        self.owned.pop();
    }

    /// Is `e` a parameter taken by value (and not shadowed since)?
    pub(super) fn is_owned_param(&self, e: &syn::Expr) -> bool {
        // A field of an owned parameter (`match a.value { .. }`) is matched by value too: the
        // arms move out of it.
        if let syn::Expr::Field(f) = e {
            return self.is_owned_param(crate::steps::common::syntax::strip_parens(&f.base));
        }
        let syn::Expr::Path(p) = e else {
            return false;
        };
        let Some(id) = p.path.get_ident().map(|i| i.to_string()) else {
            return false;
        };
        self.owned.last().is_some_and(|o| o.contains(&id))
    }

    /// A call of a function of this file (`f(..)`, `T::f(..)`, `Self::f(..)`) is about to be
    /// visited: the closures it passes to a parameter declared `impl Fn(A, ..)` (`FnMut`,
    /// `FnOnce`) have parameters of types `A, ..`.
    pub(super) fn call_closures(&mut self, c: &syn::ExprCall, scope: ScopeId) {
        if !c.args.iter().any(|a| matches!(a, syn::Expr::Closure(_))) {
            return;
        }
        let syn::Expr::Path(p) = &*c.func else {
            return;
        };
        if p.qself.is_some() {
            return;
        }
        let full = match p.path.segments.len() {
            0 => return,
            1 => self.idx.resolve_full(scope, &p.path),
            n => {
                let owner = path_without_last(&p.path, n - 1);
                let owner = if owner.is_ident("Self") {
                    match self.self_ty() {
                        Some(Ty::Struct(s)) => Some(s),
                        _ => None,
                    }
                } else {
                    self.idx.resolve_full(scope, &owner)
                };
                owner.map(|mut o| {
                    o.push(p.path.segments[n - 1].ident.to_string());
                    o
                })
            }
        };
        let Some((params, fscope)) = full.and_then(|f| self.fns.get(&f)).cloned() else {
            return;
        };
        for (arg, ty) in c.args.iter().zip(&params) {
            let syn::Expr::Closure(cl) = arg else {
                continue;
            };
            let Some(inputs) = fn_bound_inputs(ty) else {
                continue;
            };
            let tys = inputs.iter().map(|t| self.ty_of_type(t, fscope)).collect();
            self.closure_params.insert(range(cl.span()).start, tys);
        }
    }

    /// A closure's parameters shadow: typed ones are known, the others are not. Returns what
    /// to give back to [`Types::leave_closure`].
    pub(super) fn enter_closure(
        &mut self,
        c: &syn::ExprClosure,
        scope: ScopeId,
    ) -> Option<HashMap<String, Option<Ty<'a>>>> {
        let mut shadow = Vec::new();
        for p in &c.inputs {
            match p {
                syn::Pat::Type(t) => {
                    if let syn::Pat::Ident(pi) = &*t.pat {
                        shadow.push((pi.ident.to_string(), self.ty_of_type(&t.ty, scope)));
                    }
                }
                syn::Pat::Ident(pi) => shadow.push((pi.ident.to_string(), None)),
                _ => {}
            }
        }
        // Untyped parameters of a closure passed to a parameter `impl Fn(A, ..)`.
        if let Some(tys) = self.closure_params.remove(&range(c.span()).start) {
            for (p, ty) in c.inputs.iter().zip(tys) {
                if let (syn::Pat::Ident(pi), Some(ty)) = (p, ty) {
                    if pi.subpat.is_none() {
                        let name = pi.ident.to_string();
                        shadow.retain(|(n, _)| *n != name);
                        shadow.push((name, Some(ty)));
                    }
                }
            }
        }
        let saved = self.env.last().cloned();
        for (n, t) in shadow {
            self.bind(n, t);
        }
        saved
    }

    pub(super) fn leave_closure(&mut self, saved: Option<HashMap<String, Option<Ty<'a>>>>) {
        if let (Some(env), Some(saved)) = (self.env.last_mut(), saved) {
            *env = saved;
        }
    }

    /// The type of a `let`'s initializer, taken before its pattern is visited (the pattern
    /// may shadow a name the initializer reads).
    pub(super) fn init_ty(&self, l: &syn::Local, scope: ScopeId) -> Option<Ty<'a>> {
        l.init
            .as_ref()
            .and_then(|i| self.ty_of_expr(&i.expr, scope))
    }

    /// A `let` after its pattern was visited: its binding's type (`ty`: from
    /// [`Types::init_ty`]).
    pub(super) fn local(&mut self, l: &syn::Local, ty: Option<Ty<'a>>, scope: ScopeId) {
        match &l.pat {
            syn::Pat::Type(t) => {
                if let syn::Pat::Ident(pi) = &*t.pat {
                    let declared = self.ty_of_type(&t.ty, scope);
                    self.bind(pi.ident.to_string(), declared);
                }
            }
            syn::Pat::Ident(pi) if pi.subpat.is_none() => {
                self.bind(pi.ident.to_string(), ty);
            }
            // `let Some(x) = .. else { .. };`
            other => self.bind_pattern(other, ty),
        }
    }

    /// A pattern matched against a value of type `ty` (a `match` arm, `if let`, `while let`,
    /// `let .. else`), after it was visited: `x`, `Some(x)`, `Ok(x)`, `&x`, nested, bind `x` to
    /// `ty` (an `Option` or a `Result` is known as what it holds).
    pub(super) fn bind_pattern(&mut self, p: &syn::Pat, ty: Option<Ty<'a>>) {
        let Some(ty) = ty else {
            return;
        };
        match p {
            syn::Pat::Ident(pi) if pi.subpat.is_none() => self.bind(pi.ident.to_string(), Some(ty)),
            syn::Pat::Reference(r) => self.bind_pattern(&r.pat, Some(ty)),
            syn::Pat::Paren(x) => self.bind_pattern(&x.pat, Some(ty)),
            syn::Pat::TupleStruct(t)
                if t.qself.is_none()
                    && t.elems.len() == 1
                    && (t.path.is_ident("Some") || t.path.is_ident("Ok")) =>
            {
                self.bind_pattern(&t.elems[0], Some(ty));
            }
            _ => {}
        }
    }

    /// The type of the items a `for` loop over `e` binds: the elements of a sequence of
    /// messages (`for m in &resp.items`, `for m in list.iter()`).
    pub(super) fn loop_item(&self, e: &syn::Expr, scope: ScopeId) -> Option<Ty<'a>> {
        match self.ty_of_expr(e, scope)? {
            Ty::List(m) => Some(Ty::Message(m)),
            _ => None,
        }
    }

    /// The locals known now, to give back to [`Types::restore`] where a scope ends (a `match`
    /// arm, the branch of an `if let`, the body of a `while let`): the bindings of its patterns
    /// end there.
    pub(super) fn save(&self) -> Option<HashMap<String, Option<Ty<'a>>>> {
        self.env.last().cloned()
    }

    pub(super) fn restore(&mut self, saved: Option<HashMap<String, Option<Ty<'a>>>>) {
        self.leave_closure(saved);
    }

    /// A tuple-struct pattern after it was visited: `Kind::Put(r)` of a oneof's message
    /// variant binds `r` to the (boxed) message.
    pub(super) fn tuple_struct_pat(&mut self, p: &syn::PatTupleStruct, scope: ScopeId) {
        let [syn::Pat::Ident(pi)] = p.elems.iter().collect::<Vec<_>>()[..] else {
            return;
        };
        if pi.subpat.is_some() || p.path.segments.len() < 2 {
            return;
        }
        let n = p.path.segments.len();
        let parent = path_without_last(&p.path, n - 1);
        let variant = p.path.segments[n - 1].ident.to_string();
        let Some(Named::Oneof(_, o)) = self.resolve(scope, &parent) else {
            return;
        };
        let Some(FieldKind::Message(full)) = o.variant_by_rust_name(&variant).map(|v| &v.kind)
        else {
            return;
        };
        let ty = self.schema.and_then(|s| s.message(full)).map(Ty::Boxed);
        self.bind(pi.ident.to_string(), ty);
    }

    /// Any binding that was not typed shadows what was known.
    pub(super) fn shadow(&mut self, name: String) {
        if let Some(o) = self.owned.last_mut() {
            o.remove(&name);
        }
        self.bind(name, None);
    }

    fn bind(&mut self, name: String, ty: Option<Ty<'a>>) {
        if let Some(env) = self.env.last_mut() {
            env.insert(name, ty);
        }
    }

    /// Is `name` a local bound to a oneof's boxed message variant?
    pub(super) fn is_boxed_local(&self, name: &str) -> bool {
        matches!(
            self.env.last().and_then(|e| e.get(name)),
            Some(Some(Ty::Boxed(_)))
        )
    }

    pub(super) fn knows_struct(&self, s: &[String]) -> bool {
        self.structs.contains_key(s) || self.idx.symbols.as_ref().is_some_and(|x| x.has_struct(s))
    }

    /// The type a written type denotes, for field reads (references, `Box`, `Arc`, `Rc`
    /// looked through).
    pub(super) fn ty_of_type(&self, ty: &syn::Type, scope: ScopeId) -> Option<Ty<'a>> {
        match ty {
            syn::Type::Reference(r) => self.ty_of_type(&r.elem, scope),
            syn::Type::Paren(p) => self.ty_of_type(&p.elem, scope),
            syn::Type::Group(g) => self.ty_of_type(&g.elem, scope),
            syn::Type::Slice(sl) => self.ty_of_type(&sl.elem, scope)?.message().map(Ty::List),
            syn::Type::Path(tp) if tp.qself.is_none() => {
                let last = tp.path.segments.last()?;
                // `Option<T>` too: only its `T` has fields, and the methods that reach it
                // (`as_mut().unwrap()`) keep the type (see `ty_of_expr`).
                if matches!(
                    last.ident.to_string().as_str(),
                    "Box" | "Arc" | "Rc" | "Option" | "Result"
                ) {
                    if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                        if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                            return self.ty_of_type(inner, scope);
                        }
                    }
                    return None;
                }
                if tp.path.is_ident("Self") {
                    return self.self_ty();
                }
                if LISTS.iter().any(|l| last.ident == l) {
                    if let syn::PathArguments::AngleBracketed(a) = &last.arguments {
                        if let Some(syn::GenericArgument::Type(inner)) = a.args.first() {
                            return self.ty_of_type(inner, scope)?.message().map(Ty::List);
                        }
                    }
                    return None;
                }
                let full = match self.idx.resolve(scope, &tp.path)? {
                    Resolution::One(r) => r.full,
                    Resolution::Ambiguous(_) => return None,
                };
                // `tonic::Streaming<M>` and `tonic::Response<T>` (re-exported by tonic's root).
                let inner = || match &last.arguments {
                    syn::PathArguments::AngleBracketed(a) => match a.args.first() {
                        Some(syn::GenericArgument::Type(inner)) => self.ty_of_type(inner, scope),
                        _ => None,
                    },
                    _ => None,
                };
                match tonic_wrapper(&full) {
                    Some(Wrapper::Streaming) => {
                        return inner().and_then(|t| t.message()).map(Ty::Stream)
                    }
                    Some(Wrapper::Response) => return inner().map(|t| Ty::Response(Box::new(t))),
                    None => {}
                }
                self.ty_of_full(full)
            }
            _ => None,
        }
    }

    /// The service whose generated tonic client `full` is (`<module>::x_client::XClient`).
    fn client(&self, full: &[String]) -> Option<&'a Service> {
        let schema = self.schema?;
        let (name, module) = full.split_last()?;
        let (client_mod, module) = module.split_last()?;
        let package = self
            .ctx
            .modules
            .iter()
            .find(|(m, _)| m[..] == module[..])
            .map(|(_, p)| p)?;
        schema.services.iter().find(|s| {
            &s.package == package && &s.tonic_client_mod == client_mod && &s.tonic_client == name
        })
    }

    /// What `client.method(..)` gives: an RPC's response, the client itself for its builder
    /// methods.
    fn client_call(svc: &'a Service, method: &str, schema: &'a Schema) -> Option<Ty<'a>> {
        if let Some(m) = svc.methods.iter().find(|m| m.rust_name == method) {
            let out = schema.message(&m.output)?;
            let inner = match m.kind {
                StreamingKind::Unary | StreamingKind::ClientStream => Ty::Message(out),
                StreamingKind::ServerStream | StreamingKind::Bidi => Ty::Stream(out),
            };
            return Some(Ty::Response(Box::new(inner)));
        }
        CLIENT_BUILDERS.contains(&method).then_some(Ty::Client(svc))
    }

    fn ty_of_full(&self, full: Vec<String>) -> Option<Ty<'a>> {
        if let Some(svc) = self.client(&full) {
            return Some(Ty::Client(svc));
        }
        match self.ctx.named(&full) {
            Some(Named::Message(m)) => Some(Ty::Message(m)),
            Some(_) => None,
            None => Some(Ty::Struct(full)),
        }
    }

    /// The declared return type of `owner::name` (an inherent method of a crate type, or a
    /// function of a crate module), from the crate's symbol index; `Self` is `owner`.
    fn returned(&self, owner: &[String], name: &str) -> Option<Ty<'a>> {
        let mut full = owner.to_vec();
        full.push(name.to_string());
        let ret = self.idx.symbols.as_ref()?.function(&full)?.ret.clone()?;
        if ret.text == "Self" {
            return Some(Ty::Struct(owner.to_vec()));
        }
        // `&M`, `Option<M>`, `Result<&M, E>`: known as what they hold.
        self.ty_of_full(ret.held.or(ret.head)?)
    }

    /// The declared type of field `name` of the crate's struct `s`.
    fn struct_field(&self, s: &[String], name: &str) -> Option<Ty<'a>> {
        if let Some(fields) = self.structs.get(s) {
            let (_, ty, scope) = fields.iter().find(|(n, _, _)| n == name)?;
            return self.ty_of_type(ty, *scope);
        }
        let syms = self.idx.symbols.as_ref()?;
        let f = syms.field(s, name)?;
        self.ty_of_full(f.held.or(f.head)?)
    }

    /// The type of `receiver.method(..)`, see [`Types::ty_of_expr`].
    fn method_call_ty(&self, m: &syn::ExprMethodCall, scope: ScopeId) -> Option<Ty<'a>> {
        let method = m.method.to_string();
        match self.ty_of_expr(&m.receiver, scope)? {
            // An inherent method, a method of the trait whose default method this is,
            // or of the one trait of this file with a method of that name.
            Ty::Struct(s) => self
                .returned(&s, &method)
                .or_else(|| self.trait_method(Some(&s), &method))
                .or_else(|| {
                    self.knows_struct(&s)
                        .then(|| self.trait_method(None, &method))
                        .flatten()
                }),
            Ty::Message(_) | Ty::Boxed(_) => None,
            Ty::Client(svc) => Self::client_call(svc, &method, self.schema?),
            Ty::Response(inner) => {
                matches!(method.as_str(), "into_inner" | "get_ref" | "get_mut").then_some(*inner)
            }
            Ty::Stream(item) => matches!(method.as_str(), "message" | "next" | "try_next")
                .then_some(Ty::Message(item)),
            Ty::List(item) if LIST_KEEPING.contains(&method.as_str()) => Some(Ty::List(item)),
            Ty::List(item) => LIST_ELEMENT
                .contains(&method.as_str())
                .then_some(Ty::Message(item)),
        }
    }

    /// The type of a call `f(..)` / `T::f(..)`, see [`Types::ty_of_expr`].
    fn call_ty(&self, c: &syn::ExprCall, scope: ScopeId) -> Option<Ty<'a>> {
        let syn::Expr::Path(p) = &*c.func else {
            return None;
        };
        // `Arc::new(x)`, `Box::new(x)`, `Rc::new(x)`, `Some(x)`, `Ok(x)`: known as `x`.
        let segs = crate::resolve::segment_names(&p.path);
        let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
        if c.args.len() == 1
            && matches!(
                segs[segs.len().saturating_sub(2)..],
                ["Arc" | "Box" | "Rc", "new"] | ["Some" | "Ok"]
            )
        {
            return self.ty_of_expr(&c.args[0], scope);
        }
        if p.qself.is_some() || p.path.segments.len() < 2 {
            let full = self.idx.resolve_full(scope, &p.path)?;
            let (name, owner) = full.split_last()?;
            return self.returned(owner, name);
        }
        let owner = path_without_last(&p.path, p.path.segments.len() - 1);
        let name = p.path.segments.last()?.ident.to_string();
        let owner = if owner.is_ident("Self") {
            match self.self_ty()? {
                Ty::Struct(s) => s,
                Ty::Message(m) | Ty::Boxed(m) => {
                    return (name == "default").then_some(Ty::Message(m))
                }
                _ => return None,
            }
        } else {
            match self.resolve(scope, &owner) {
                Some(Named::Message(m)) => return (name == "default").then_some(Ty::Message(m)),
                Some(_) => return None,
                None => self.idx.resolve_full(scope, &owner)?,
            }
        };
        // `XClient::new(channel)`, `XClient::connect(url).await?`.
        if let Some(svc) = self.client(&owner) {
            return CLIENT_CONSTRUCTORS
                .contains(&name.as_str())
                .then_some(Ty::Client(svc));
        }
        // A derived `Default` of a struct of the crate.
        self.returned(&owner, &name).or_else(|| {
            (name == "default" && self.knows_struct(&owner)).then_some(Ty::Struct(owner))
        })
    }

    /// The type of an expression, where it can be known.
    pub(super) fn ty_of_expr(&self, e: &syn::Expr, scope: ScopeId) -> Option<Ty<'a>> {
        match e {
            syn::Expr::Paren(p) => self.ty_of_expr(&p.expr, scope),
            syn::Expr::Group(g) => self.ty_of_expr(&g.expr, scope),
            syn::Expr::Reference(r) => self.ty_of_expr(&r.expr, scope),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => {
                self.ty_of_expr(&u.expr, scope)
            }
            syn::Expr::Path(p) if p.qself.is_none() => {
                let id = p.path.get_ident()?.to_string();
                if id == "self" {
                    return self.self_ty();
                }
                self.env.last()?.get(&id).cloned().flatten()
            }
            syn::Expr::Field(f) => {
                let name = match &f.member {
                    syn::Member::Named(n) => n.to_string(),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                match self.ty_of_expr(&f.base, scope)? {
                    Ty::Struct(s) => self.struct_field(&s, &name),
                    Ty::Client(_) | Ty::Response(_) | Ty::Stream(_) | Ty::List(_) => None,
                    Ty::Message(m) | Ty::Boxed(m) => {
                        let field = m.field_by_rust_name(&name)?;
                        match &field.kind {
                            FieldKind::Message(full)
                                if field.oneof.is_none()
                                    && !matches!(field.label, Label::Repeated | Label::Map) =>
                            {
                                self.schema?.message(full).map(Ty::Message)
                            }
                            FieldKind::Message(full) if matches!(field.label, Label::Repeated) => {
                                self.schema?.message(full).map(Ty::List)
                            }
                            _ => None,
                        }
                    }
                }
            }
            // Methods that keep the type, `Option`'s and `MessageField`'s included (an
            // `Option<T>` is known as its `T`).
            syn::Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "clone"
                        | "as_ref"
                        | "as_mut"
                        | "as_option"
                        | "as_option_mut"
                        | "unwrap"
                        | "expect"
                        | "unwrap_or_default"
                        | "get_or_insert_default"
                ) =>
            {
                self.ty_of_expr(&m.receiver, scope)
            }
            // A method of the crate's own type: its declared return type; a client's RPC, a
            // response's inside, a stream's next item.
            syn::Expr::MethodCall(m) => self.method_call_ty(m, scope),
            // An element of a sequence of messages.
            syn::Expr::Index(i) if !matches!(&*i.index, syn::Expr::Range(_)) => {
                match self.ty_of_expr(&i.expr, scope)? {
                    Ty::List(m) => Some(Ty::Message(m)),
                    _ => None,
                }
            }
            // A future is known as its output, a `Result` as its `Ok` value.
            syn::Expr::Await(a) => self.ty_of_expr(&a.base, scope),
            syn::Expr::Try(t) => self.ty_of_expr(&t.expr, scope),
            // `T::f(..)` of the crate's own type, or a crate function.
            syn::Expr::Call(c) => self.call_ty(c, scope),
            syn::Expr::Struct(s) if s.qself.is_none() => {
                if s.path.is_ident("Self") {
                    return self.self_ty();
                }
                match self.resolve(scope, &s.path) {
                    Some(Named::Message(m)) => Some(Ty::Message(m)),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}
