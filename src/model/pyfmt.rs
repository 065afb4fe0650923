//! Numbers as Python prints them, so that messages and the command line show a value exactly
//! as the client's own Python would: `repr` of a float, and an integral value without its
//! fraction.

/// A float as a message shows a number a client sent: `7` for an integral value, else as
/// Python's `repr` (`7.5`, `1e-07`).
pub fn python_float_or_int(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{}", v as i64)
    } else {
        python_float(v)
    }
}

/// A float as Python's `repr` writes it (`1.0`, `0.1`, `1e-07`, `inf`).
pub fn python_float(v: f64) -> String {
    if v.is_nan() {
        return "nan".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let debug = format!("{v:?}");
    match debug.split_once('e') {
        Some((mantissa, exponent)) => {
            let (sign, digits) = exponent
                .strip_prefix('-')
                .map_or(("+", exponent), |d| ("-", d));
            format!("{mantissa}e{sign}{digits:0>2}")
        }
        None => debug,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_matches_repr() {
        for (v, repr) in [
            (1.0, "1.0"),
            (0.1, "0.1"),
            (1e-7, "1e-07"),
            (1e16, "1e+16"),
            (1.5e300, "1.5e+300"),
            (0.43884413297560365, "0.43884413297560365"),
            (-0.0, "-0.0"),
        ] {
            assert_eq!(python_float(v), repr);
        }
    }

    #[test]
    fn integral_values_print_without_a_fraction() {
        assert_eq!(python_float_or_int(7.0), "7");
        assert_eq!(python_float_or_int(7.5), "7.5");
    }
}
