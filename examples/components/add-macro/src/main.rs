//! Example skiff component: the `add` example written with `#[skiff_guest::component]`.
//!
//! Same inputs and outputs as the hand-written `examples/components/add` (input parameters `a`
//! and `b`, output parameter `sum`, the sum as `outputs.result`), and the pair is what the
//! `component` bench compares: the macro's cost per step over hand-written code.

/// Adds the integers `a` and `b`.
#[skiff_guest::component(output = "sum")]
fn add(a: i64, b: i64) -> Result<i64, String> {
    a.checked_add(b)
        .ok_or_else(|| format!("{a} + {b} does not fit in 64 bits"))
}

#[cfg(test)]
mod tests {
    use super::add;

    #[test]
    fn adds_and_refuses_overflow() {
        assert_eq!(add(40, 2), Ok(42));
        assert!(add(i64::MAX, 1).unwrap_err().contains("does not fit"));
    }
}
