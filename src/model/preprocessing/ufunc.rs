//! The numpy ufuncs a FunctionTransformer (or a TransformedTargetRegressor) may name, computed
//! here as numpy computes them element by element, with numpy's types: the floating ones give
//! float64 for integers and keep float32; `square`, `absolute`, `sign`, `negative` and
//! `reciprocal` keep integers integers (`reciprocal` of an integer divides as C does, and of 0
//! gives the smallest int64, as numpy does).
//!
//! The file names them as globals that the allow-list keeps as inert names
//! (`allow::NUMPY_UFUNCS`); nothing here ever calls what a file names. Beyond the nine of the
//! common transforms (log, log1p, exp, expm1, sqrt, square, abs, sign, reciprocal), the list
//! holds the other bases of the same transforms (log2, log10, exp2), the cube root and
//! `arcsinh` (the transforms of skewed data with zeros and negatives), `fabs` and `negative`:
//! each a single libm call or an exact operation.

use crate::model::input::Dtype;
use crate::model::simd::wide;
use crate::model::special::log1p;

/// A ufunc skserve computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ufunc {
    Log,
    Log1p,
    Log2,
    Log10,
    Exp,
    Exp2,
    Expm1,
    Sqrt,
    Cbrt,
    Arcsinh,
    Fabs,
    Square,
    Absolute,
    Sign,
    Negative,
    Reciprocal,
}

/// The modules numpy's ufuncs are pickled from, across numpy 1 and 2.
pub const MODULES: &[&str] = &[
    "numpy",
    "numpy.core._multiarray_umath",
    "numpy._core._multiarray_umath",
    "numpy.core.umath",
    "numpy._core.umath",
];

impl Ufunc {
    pub const ALL: [Ufunc; 16] = [
        Ufunc::Log,
        Ufunc::Log1p,
        Ufunc::Log2,
        Ufunc::Log10,
        Ufunc::Exp,
        Ufunc::Exp2,
        Ufunc::Expm1,
        Ufunc::Sqrt,
        Ufunc::Cbrt,
        Ufunc::Arcsinh,
        Ufunc::Fabs,
        Ufunc::Square,
        Ufunc::Absolute,
        Ufunc::Sign,
        Ufunc::Negative,
        Ufunc::Reciprocal,
    ];

    /// numpy's name (`np.abs` is pickled as `absolute`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Log1p => "log1p",
            Self::Log2 => "log2",
            Self::Log10 => "log10",
            Self::Exp => "exp",
            Self::Exp2 => "exp2",
            Self::Expm1 => "expm1",
            Self::Sqrt => "sqrt",
            Self::Cbrt => "cbrt",
            Self::Arcsinh => "arcsinh",
            Self::Fabs => "fabs",
            Self::Square => "square",
            Self::Absolute => "absolute",
            Self::Sign => "sign",
            Self::Negative => "negative",
            Self::Reciprocal => "reciprocal",
        }
    }

    /// The ufunc a global's full name (`numpy.log1p`,
    /// `numpy.core._multiarray_umath.log1p`) names.
    pub fn of_global(global: &str) -> Option<Self> {
        let (module, name) = global.rsplit_once('.')?;
        if !MODULES.contains(&module) {
            return None;
        }
        Self::ALL.into_iter().find(|u| u.name() == name)
    }

    /// Whether integers stay integers through it.
    fn keeps_integers(self) -> bool {
        matches!(
            self,
            Self::Square | Self::Absolute | Self::Sign | Self::Negative | Self::Reciprocal
        )
    }

    /// Whether numpy applies it to a scipy sparse matrix (a method of the matrix, applied to
    /// its stored values, 0 mapped to 0), as scikit-learn 1.1 to 1.9 call it; the others raise.
    pub fn keeps_sparse(self) -> bool {
        matches!(
            self,
            Self::Log1p
                | Self::Expm1
                | Self::Sqrt
                | Self::Arcsinh
                | Self::Absolute
                | Self::Negative
        )
    }

    /// The dtype of its result for input of `dtype`.
    pub fn output(self, dtype: Dtype) -> Dtype {
        match dtype {
            Dtype::F32 => Dtype::F32,
            Dtype::F64 => Dtype::F64,
            Dtype::Int | Dtype::Bool if self.keeps_integers() => Dtype::Int,
            Dtype::Int | Dtype::Bool => Dtype::F64,
        }
    }

    /// [`Ufunc::apply`] to every value in place. `log1p` of floats runs as one vectorised
    /// loop (as numpy's does), the same arithmetic value for value.
    pub fn apply_all(self, values: &mut [f64], dtype: Dtype) {
        if self == Self::Log1p && dtype != Dtype::F32 {
            wide(
                #[inline(always)]
                || values.iter_mut().for_each(|v| *v = log1p(*v)),
            );
            return;
        }
        values.iter_mut().for_each(|v| *v = self.apply(*v, dtype));
    }

    /// Its value at `v`, a value of `dtype`.
    pub fn apply(self, v: f64, dtype: Dtype) -> f64 {
        if v.is_nan() {
            return v;
        }
        let integer = matches!(dtype, Dtype::Int | Dtype::Bool) && self.keeps_integers();
        let out = match self {
            Self::Log => v.ln(),
            Self::Log1p => log1p(v),
            Self::Log2 => v.log2(),
            Self::Log10 => v.log10(),
            Self::Exp => v.exp(),
            Self::Exp2 => v.exp2(),
            Self::Expm1 => v.exp_m1(),
            Self::Sqrt => v.sqrt(),
            Self::Cbrt => v.cbrt(),
            Self::Arcsinh => v.asinh(),
            Self::Fabs | Self::Absolute => v.abs(),
            Self::Square => v * v,
            Self::Sign => {
                if v > 0.0 {
                    1.0
                } else if v < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            Self::Negative => -v,
            Self::Reciprocal if integer => {
                if v == 0.0 {
                    i64::MIN as f64
                } else if v.abs() == 1.0 {
                    v
                } else {
                    0.0
                }
            }
            Self::Reciprocal => 1.0 / v,
        };
        self.output(dtype).round(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_from_every_numpy_module() {
        for module in MODULES {
            for u in Ufunc::ALL {
                assert_eq!(Ufunc::of_global(&format!("{module}.{}", u.name())), Some(u));
            }
        }
        assert_eq!(Ufunc::of_global("numpy.load"), None);
        assert_eq!(Ufunc::of_global("os.log"), None);
        assert_eq!(Ufunc::of_global("numpy.linalg.log"), None);
    }

    #[test]
    fn the_allow_list_keeps_exactly_these_names() {
        let names: Vec<&str> = Ufunc::ALL.iter().map(|u| u.name()).collect();
        assert_eq!(names, crate::model::allow::NUMPY_UFUNCS);
        for module in MODULES {
            for name in &names {
                assert!(matches!(
                    crate::model::allow::resolve(module, name),
                    Some(crate::model::allow::Callable::Inert(_))
                ));
            }
        }
    }

    #[test]
    fn integer_semantics_are_numpys() {
        // np.reciprocal(np.array([-3, -1, 0, 1, 2])) and np.sign of signed zeros.
        let got: Vec<f64> = [-3.0, -1.0, 0.0, 1.0, 2.0]
            .iter()
            .map(|&v| Ufunc::Reciprocal.apply(v, Dtype::Int))
            .collect();
        assert_eq!(got, [0.0, -1.0, -9_223_372_036_854_775_808.0, 1.0, 0.0]);
        assert_eq!(Ufunc::Sign.apply(-0.0, Dtype::F64), 0.0);
        assert!(Ufunc::Sign.apply(f64::NAN, Dtype::F64).is_nan());
        assert_eq!(Ufunc::Sqrt.output(Dtype::Int), Dtype::F64);
        assert_eq!(Ufunc::Square.output(Dtype::Int), Dtype::Int);
        assert_eq!(
            Ufunc::Log1p.apply(0.5, Dtype::F32),
            (0.5f64.ln_1p()) as f32 as f64
        );
    }
}
