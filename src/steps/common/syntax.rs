//! Small syntax helpers several steps share: expressions without their parentheses, the test-only
//! parts of a file.

use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::resolve::range;

/// `e` without the parentheses and invisible groups around it.
pub(crate) fn strip_parens(e: &syn::Expr) -> &syn::Expr {
    match e {
        syn::Expr::Paren(p) => strip_parens(&p.expr),
        syn::Expr::Group(g) => strip_parens(&g.expr),
        _ => e,
    }
}

/// Byte ranges of the items marked `#[cfg(test)]`.
pub(crate) fn cfg_test_ranges(file: &syn::File) -> Vec<std::ops::Range<usize>> {
    struct V(Vec<std::ops::Range<usize>>);
    impl<'ast> Visit<'ast> for V {
        fn visit_item(&mut self, i: &'ast syn::Item) {
            let attrs: &[syn::Attribute] = match i {
                syn::Item::Mod(m) => &m.attrs,
                syn::Item::Fn(f) => &f.attrs,
                syn::Item::Use(u) => &u.attrs,
                syn::Item::Impl(x) => &x.attrs,
                syn::Item::Struct(x) => &x.attrs,
                syn::Item::Enum(x) => &x.attrs,
                syn::Item::Const(x) => &x.attrs,
                syn::Item::Static(x) => &x.attrs,
                syn::Item::Trait(x) => &x.attrs,
                syn::Item::Macro(x) => &x.attrs,
                _ => &[],
            };
            let test = attrs.iter().any(|a| {
                a.path().is_ident("cfg")
                    && matches!(&a.meta, syn::Meta::List(l) if l.tokens.to_string() == "test")
            });
            if test {
                self.0.push(range(i.span()));
            } else {
                syn::visit::visit_item(self, i);
            }
        }
    }
    let mut v = V(Vec::new());
    v.visit_file(file);
    v.0
}

/// tonic's interceptor shape: one `tonic::Request<..>` in, `Result<tonic::Request<..>, _>` out
/// (a function, a `dyn Fn(..)` bound, a `fn(..)` pointer). Such code is called by tonic, so its
/// `Status` stays tonic's while tonic calls it (steps 3 and 7).
pub(crate) fn interceptor_shape<'t>(
    idx: &crate::resolve::FileIndex,
    scope: crate::resolve::ScopeId,
    mut inputs: impl Iterator<Item = &'t syn::Type>,
    output: &syn::ReturnType,
) -> bool {
    let is_request = |ty: &syn::Type| {
        let syn::Type::Path(tp) = ty else {
            return false;
        };
        let mut p = tp.path.clone();
        if let Some(last) = p.segments.last_mut() {
            last.arguments = syn::PathArguments::None;
        }
        idx.resolve(scope, &p)
            .and_then(|r| r.resolved().cloned())
            .is_some_and(|r| r.full == ["tonic", "Request"])
    };
    let (Some(input), None) = (inputs.next(), inputs.next()) else {
        return false;
    };
    let syn::ReturnType::Type(_, out) = output else {
        return false;
    };
    let syn::Type::Path(tp) = &**out else {
        return false;
    };
    let Some(last) = tp.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    is_request(input)
        && last.ident == "Result"
        && matches!(args.args.first(), Some(syn::GenericArgument::Type(t)) if is_request(t))
}

/// The type arguments of a path's last segment (`InterceptedService<Channel, F>`: `Channel`,
/// `F`); none when it has no angle-bracketed arguments.
pub(crate) fn type_args(p: &syn::Path) -> Vec<&syn::Type> {
    let Some(syn::PathArguments::AngleBracketed(a)) = p.segments.last().map(|s| &s.arguments)
    else {
        return Vec::new();
    };
    a.args
        .iter()
        .filter_map(|g| match g {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .collect()
}
