//! The macros of [`skiff-guest`](https://docs.rs/skiff-guest): `#[component]` and
//! `#[derive(Outputs)]`. Use them through that crate (`skiff_guest::component`,
//! `skiff_guest::Outputs`), whose documentation has the walk-through; the code they generate names
//! `::skiff_guest` paths. The examples are on the re-exports in `skiff-guest`, where they compile
//! and run as that crate's doctests.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{
    Data, DeriveInput, Expr, ExprLit, Fields, FnArg, ItemFn, Lit, LitStr, Meta, Pat, ReturnType,
    Type,
};

/// Turns a function into a skiff component: a WASI program that reads the function's arguments
/// from the step's inputs, calls it, and writes what it returns as the step's outputs. It also
/// embeds a description of the inputs and outputs in the module (the `skiff.component` custom
/// section) for `skiff component describe` and the checks skiff makes before a run.
///
/// Options: `#[component(name = "add-numbers")]` (the component's name; default: the function's,
/// with `_` as `-`) and `#[component(output = "sum")]` (the name of a single returned value;
/// default `output`).
#[proc_macro_attribute]
pub fn component(attr: TokenStream, item: TokenStream) -> TokenStream {
    let func = syn::parse_macro_input!(item as ItemFn);
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            options.name = Some(meta.value()?.parse::<LitStr>()?);
            Ok(())
        } else if meta.path.is_ident("output") {
            options.output = Some(meta.value()?.parse::<LitStr>()?);
            Ok(())
        } else {
            Err(meta.error("unknown option: expected `name = \"...\"` or `output = \"...\"`"))
        }
    });
    syn::parse_macro_input!(attr with parser);
    match expand_component(&func, &options) {
        Ok(tokens) => tokens.into(),
        Err(err) => {
            let err = err.to_compile_error();
            quote!(#func #err).into()
        }
    }
}

/// Lets a struct be what a component returns: each named field becomes an output parameter of
/// the same name, written to `/tmp/outputs/parameters/<field>`. Field types are the ones a
/// component can output (integers, floats, `bool`, `String`, `Json<T>`, `serde_json::Value`).
#[proc_macro_derive(Outputs)]
pub fn derive_outputs(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as DeriveInput);
    match expand_outputs(&input) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Options {
    name: Option<LitStr>,
    output: Option<LitStr>,
}

fn expand_component(func: &ItemFn, options: &Options) -> syn::Result<TokenStream2> {
    let sig = &func.sig;
    let ident = &sig.ident;
    if ident == "main" {
        return Err(syn::Error::new(
            ident.span(),
            "#[component] makes `main` itself: give the function another name, e.g. the component's",
        ));
    }
    if let Some(asyncness) = &sig.asyncness {
        return Err(syn::Error::new(
            asyncness.span(),
            "a component function cannot be async: a step runs one call to completion",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(syn::Error::new(
            sig.generics.span(),
            "a component function cannot be generic: its inputs need concrete types",
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "a component function cannot be variadic",
        ));
    }

    let mut reads = Vec::new();
    let mut vars = Vec::new();
    let mut descs = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for arg in &sig.inputs {
        let FnArg::Typed(typed) = arg else {
            return Err(syn::Error::new(
                arg.span(),
                "a component is a free function: remove `self`",
            ));
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(syn::Error::new(
                typed.pat.span(),
                "name each argument with a plain identifier: it is the input's name",
            ));
        };
        if pat.by_ref.is_some() || pat.subpat.is_some() {
            return Err(syn::Error::new(
                typed.pat.span(),
                "name each argument with a plain identifier: it is the input's name",
            ));
        }
        let ty = &*typed.ty;
        if let Type::Reference(r) = ty {
            let hint = match &*r.elem {
                Type::Path(p) if p.path.is_ident("str") => " (take `String` instead of `&str`)",
                _ => "",
            };
            return Err(syn::Error::new(
                ty.span(),
                format!("component arguments are owned values, not references{hint}"),
            ));
        }
        if let Type::ImplTrait(_) = ty {
            return Err(syn::Error::new(
                ty.span(),
                "component arguments need concrete types, not `impl Trait`",
            ));
        }
        let name = unraw(&pat.ident.to_string());
        if seen.contains(&name) {
            return Err(syn::Error::new(pat.ident.span(), "duplicate input name"));
        }
        seen.push(name.clone());
        let var = format_ident!("__skiff_arg_{}", vars.len());
        let span = ty.span();
        reads.push(quote_spanned! {span=>
            let #var = <#ty as ::skiff_guest::Input>::read(#name)?;
        });
        descs.push(quote_spanned! {span=>
            ::skiff_guest::__private::Arg {
                name: #name,
                kind: <#ty as ::skiff_guest::Input>::KIND,
                ty: <#ty as ::skiff_guest::Input>::TYPE,
                required: <#ty as ::skiff_guest::Input>::REQUIRED,
            }
        });
        vars.push(var);
    }

    let ret: TokenStream2 = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            if let Type::ImplTrait(_) = &**ty {
                return Err(syn::Error::new(
                    ty.span(),
                    "a component returns a concrete type, not `impl Trait`",
                ));
            }
            quote!(#ty)
        }
    };
    let ret_span = match &sig.output {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };

    let name = match &options.name {
        Some(lit) => {
            let value = lit.value();
            if value.is_empty()
                || !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
            {
                return Err(syn::Error::new(
                    lit.span(),
                    "a component name is letters, digits, `-`, `_` and `.`",
                ));
            }
            value
        }
        None => unraw(&ident.to_string()).replace('_', "-"),
    };
    let output = match &options.output {
        Some(lit) => {
            let value = lit.value();
            if value.is_empty() || value.contains('/') {
                return Err(syn::Error::new(
                    lit.span(),
                    "an output name is not empty and has no `/`",
                ));
            }
            value
        }
        None => "output".to_owned(),
    };
    let doc = doc_text(&func.attrs);

    let call = quote_spanned! {ret_span=>
        let __skiff_out: #ret = #ident(#(#vars),*);
        ::skiff_guest::Outputs::write(__skiff_out, #output)
    };

    Ok(quote! {
        #func

        /// The component's description (the `skiff.component` custom section's JSON).
        const __SKIFF_COMPONENT: ::skiff_guest::__private::Description<'static> =
            ::skiff_guest::__private::Description {
                name: #name,
                doc: #doc,
                args: &[#(#descs),*],
                outputs: <#ret as ::skiff_guest::Outputs>::FIELDS,
                single: #output,
            };
        const __SKIFF_COMPONENT_LEN: usize = __SKIFF_COMPONENT.json_len();
        const __SKIFF_COMPONENT_JSON: [u8; __SKIFF_COMPONENT_LEN] =
            __SKIFF_COMPONENT.json::<__SKIFF_COMPONENT_LEN>();

        #[cfg(target_family = "wasm")]
        #[allow(unsafe_code)]
        #[unsafe(link_section = "skiff.component")]
        #[used]
        static __SKIFF_COMPONENT_SECTION: [u8; __SKIFF_COMPONENT_LEN] = __SKIFF_COMPONENT_JSON;

        fn main() {
            ::skiff_guest::__private::main(
                &__SKIFF_COMPONENT_JSON,
                || -> ::core::result::Result<(), ::skiff_guest::Error> {
                    #(#reads)*
                    #call
                },
            )
        }
    })
}

fn expand_outputs(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let ident = &input.ident;
    if !input.generics.params.is_empty() {
        return Err(syn::Error::new(
            input.generics.span(),
            "#[derive(Outputs)] needs a struct without generic parameters",
        ));
    }
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            ident.span(),
            "#[derive(Outputs)] works on a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(
            ident.span(),
            "#[derive(Outputs)] works on a struct with named fields: each field is an output",
        ));
    };
    let mut descs = Vec::new();
    let mut writes = Vec::new();
    for field in &fields.named {
        let Some(field_ident) = &field.ident else {
            continue;
        };
        let name = unraw(&field_ident.to_string());
        let ty = &field.ty;
        let span = ty.span();
        descs.push(quote_spanned! {span=>
            ::skiff_guest::OutputField {
                name: #name,
                ty: <#ty as ::skiff_guest::ToParam>::TYPE,
            }
        });
        writes.push(quote_spanned! {span=>
            ::skiff_guest::output::param(#name, ::skiff_guest::ToParam::to_param(&self.#field_ident)?)?;
        });
    }
    Ok(quote! {
        impl ::skiff_guest::Outputs for #ident {
            const FIELDS: &'static [::skiff_guest::OutputField] = &[#(#descs),*];

            fn write(self, _single: &str) -> ::core::result::Result<(), ::skiff_guest::Error> {
                #(#writes)*
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// `r#type` → `type`.
fn unraw(ident: &str) -> String {
    ident.strip_prefix("r#").unwrap_or(ident).to_owned()
}

/// The function's doc comment as one text, read as Markdown reads it: the lines of a paragraph
/// joined with spaces, paragraphs with a blank line.
fn doc_text(attrs: &[syn::Attribute]) -> String {
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        let Meta::NameValue(nv) = &attr.meta else {
            continue;
        };
        let Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) = &nv.value
        else {
            continue;
        };
        // One attribute per `///` line (an empty `///` has no lines at all); a `/** */` block is
        // one attribute with newlines.
        let text = s.value();
        let lines: Vec<&str> = if text.trim().is_empty() {
            vec![""]
        } else {
            text.lines().collect()
        };
        for line in lines {
            let line = line.trim();
            if line.is_empty() {
                if !current.is_empty() {
                    paragraphs.push(std::mem::take(&mut current));
                }
            } else {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(line);
            }
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(source: &str) -> Result<String, String> {
        let func: ItemFn = syn::parse_str(source).expect("test input parses");
        expand_component(&func, &Options::default())
            .map(|tokens| tokens.to_string())
            .map_err(|err| err.to_string())
    }

    #[test]
    fn a_plain_function_gets_a_main_and_a_description() {
        let out = expand("/// Adds.\nfn add(a: i64, r#type: Option<u32>) -> i64 { a }").unwrap();
        assert!(out.contains("fn main ()"), "{out}");
        assert!(out.contains("link_section = \"skiff.component\""), "{out}");
        assert!(out.contains("name : \"add\""), "{out}");
        assert!(
            out.contains("name : \"type\""),
            "raw identifiers lose `r#`: {out}"
        );
        assert!(out.contains("doc : \"Adds.\""), "{out}");
        assert!(out.contains("single : \"output\""), "{out}");
    }

    #[test]
    fn names_become_kebab_case_and_options_apply() {
        let func: ItemFn = syn::parse_str("fn word_count() {}").unwrap();
        let out = expand_component(&func, &Options::default())
            .unwrap()
            .to_string();
        assert!(out.contains("name : \"word-count\""), "{out}");
        let options = Options {
            name: Some(LitStr::new("wc", Span::call_site())),
            output: Some(LitStr::new("total", Span::call_site())),
        };
        let out = expand_component(&func, &options).unwrap().to_string();
        assert!(out.contains("name : \"wc\""), "{out}");
        assert!(out.contains("single : \"total\""), "{out}");
        let bad = Options {
            output: Some(LitStr::new("a/b", Span::call_site())),
            ..Options::default()
        };
        let err = expand_component(&func, &bad).unwrap_err().to_string();
        assert!(err.contains("has no `/`"), "{err}");
    }

    #[test]
    fn what_a_component_cannot_be_is_said_plainly() {
        for (source, says) in [
            ("fn f(s: &str) {}", "take `String` instead of `&str`"),
            ("fn f(v: &Vec<u8>) {}", "owned values, not references"),
            ("async fn f() {}", "cannot be async"),
            ("fn f<T>(t: T) {}", "cannot be generic"),
            ("fn main() {}", "makes `main` itself"),
            ("fn f((a, b): (i64, i64)) {}", "plain identifier"),
            ("fn f(a: i64, a: i64) {}", "duplicate input name"),
            ("fn f(x: impl Sized) {}", "not `impl Trait`"),
            ("fn f() -> impl Sized {}", "not `impl Trait`"),
        ] {
            let err = expand(source).unwrap_err();
            assert!(err.contains(says), "{source}: {err}");
        }
    }

    #[test]
    fn doc_text_joins_the_lines_of_a_paragraph() {
        let func: ItemFn =
            syn::parse_str("/// One\n/// line.\n///\n///\n///  Two.\nfn f() {}").unwrap();
        assert_eq!(doc_text(&func.attrs), "One line.\n\nTwo.");
    }

    #[test]
    fn derive_outputs_needs_named_fields() {
        let input: DeriveInput = syn::parse_str("struct S(u8);").unwrap();
        let err = expand_outputs(&input).unwrap_err().to_string();
        assert!(err.contains("named fields"), "{err}");
        let input: DeriveInput = syn::parse_str("enum E { A }").unwrap();
        assert!(expand_outputs(&input).is_err());
        let input: DeriveInput = syn::parse_str("struct S { mean: f64 }").unwrap();
        let out = expand_outputs(&input).unwrap().to_string();
        assert!(out.contains("name : \"mean\""), "{out}");
    }
}
