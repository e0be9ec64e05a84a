//! Token flattening: a file (or any token stream) as one flat list of tokens with their byte
//! ranges, group delimiters included, for the scans that look at token shapes (`a . m ( )`)
//! rather than syntax trees. Shared by the steps that read code this way (3, 4, 6, 7, 9,
//! details) and by the unused-import removal of `steps/mod.rs`.

use std::ops::Range;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

use crate::resolve::range;

/// A token of a flattened token stream, with its byte range.
#[derive(Clone, Debug)]
pub(crate) enum Tok {
    Ident(String, Range<usize>),
    Punct(char, Range<usize>),
    Lit(Range<usize>),
    Open(Delimiter, Range<usize>),
    Close(Delimiter, Range<usize>),
}

impl Tok {
    pub(crate) fn range(&self) -> Range<usize> {
        match self {
            Tok::Ident(_, r)
            | Tok::Punct(_, r)
            | Tok::Lit(r)
            | Tok::Open(_, r)
            | Tok::Close(_, r) => r.clone(),
        }
    }
    pub(crate) fn is_ident(&self, s: &str) -> bool {
        matches!(self, Tok::Ident(i, _) if i == s)
    }
    pub(crate) fn is_punct(&self, c: char) -> bool {
        matches!(self, Tok::Punct(p, _) if *p == c)
    }
    pub(crate) fn is_open(&self, d: Delimiter) -> bool {
        matches!(self, Tok::Open(x, _) if *x == d)
    }
    pub(crate) fn is_close(&self, d: Delimiter) -> bool {
        matches!(self, Tok::Close(x, _) if *x == d)
    }
    pub(crate) fn ident(&self) -> Option<&str> {
        match self {
            Tok::Ident(i, _) => Some(i),
            _ => None,
        }
    }
}

pub(crate) fn flatten(t: TokenStream, out: &mut Vec<Tok>) {
    for tt in t {
        match tt {
            TokenTree::Group(g) => {
                out.push(Tok::Open(g.delimiter(), range(g.span_open())));
                flatten(g.stream(), out);
                out.push(Tok::Close(g.delimiter(), range(g.span_close())));
            }
            TokenTree::Ident(i) => out.push(Tok::Ident(i.to_string(), range(i.span()))),
            TokenTree::Punct(p) => out.push(Tok::Punct(p.as_char(), range(p.span()))),
            TokenTree::Literal(l) => out.push(Tok::Lit(range(l.span()))),
        }
    }
}

/// `a . m ( )` at `i` (the receiver ident): the method name when the call has no arguments.
pub(crate) fn empty_call_at(toks: &[Tok], i: usize) -> Option<&str> {
    if toks.get(i + 1)?.is_punct('.')
        && toks.get(i + 3)?.is_open(Delimiter::Parenthesis)
        && toks.get(i + 4)?.is_close(Delimiter::Parenthesis)
    {
        toks.get(i + 2)?.ident()
    } else {
        None
    }
}
