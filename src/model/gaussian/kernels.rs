//! The kernels of `sklearn.gaussian_process.kernels`, each an allow-listed class read with its
//! parameters checked (length scales positive and one per feature or one for all, `nu` one
//! of the closed forms, a known pairwise metric), and evaluated as scikit-learn evaluates
//! them between new rows and training rows (`k(X, Y)`, `Y` given) and on new rows alone
//! (`diag`):
//! - RBF `exp(−½ d²)`, Matern (ν = ½, 3⁄2, 5⁄2, ∞), RationalQuadratic
//!   `(1 + d² / (2 α l²))^−α` and ExpSineSquared `exp(−2 (sin(π d / p) / l)²)`, their
//!   distances scipy's `cdist` of the rows divided by the length scale (RBF, Matern) or not;
//! - DotProduct `x·y + σ₀²`, WhiteKernel (0 between different sets of rows, the noise on the
//!   diagonal), ConstantKernel;
//! - Sum, Product and Exponentiation of kernels, and PairwiseKernel over `pairwise_kernels`.
//!
//! A Matern kernel of another ν needs the modified Bessel function scipy computes, and a
//! CompoundKernel gives several matrices at once that no Gaussian process predicts with: both
//! are refused with that reason.

use ndarray::{Array1, Array2, ArrayView2};

use crate::model::LoadError;
use crate::model::allow::SkClass;
use crate::model::linear::math::exp;
use crate::model::pairwise::Kernel as Pairwise;
use crate::model::simd::{Interleaved, wide};
use crate::model::state::{Path, State, number_of, numbers_of};
use crate::model::value::{Heap, Value};

/// Kernels may nest (sums of products): a real one nests a few levels.
const MAX_DEPTH: usize = 32;

/// Matern's closed forms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Nu {
    Half,
    ThreeHalves,
    FiveHalves,
    Infinite,
}

/// A fitted kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// One length scale for every feature, or one per feature.
    Rbf {
        length_scale: Vec<f64>,
    },
    Matern {
        length_scale: Vec<f64>,
        nu: Nu,
    },
    RationalQuadratic {
        length_scale: f64,
        alpha: f64,
    },
    ExpSineSquared {
        length_scale: f64,
        periodicity: f64,
    },
    DotProduct {
        sigma_0: f64,
    },
    White {
        noise_level: f64,
    },
    Constant {
        value: f64,
    },
    Sum(Box<Kernel>, Box<Kernel>),
    Product(Box<Kernel>, Box<Kernel>),
    Exponentiation(Box<Kernel>, f64),
    Pairwise(Pairwise),
}

/// Reads the kernel at `value` (an attribute `name` of `owner`), for rows of `n_features`.
pub fn read(owner: &State<'_>, name: &str, n_features: usize) -> Result<Kernel, LoadError> {
    let value = owner.get(name)?;
    read_at(
        owner.heap,
        value,
        &owner.path.join(name),
        owner,
        name,
        n_features,
        0,
    )
}

fn read_at(
    heap: &Heap<'_>,
    value: Value,
    path: &Path,
    owner: &State<'_>,
    name: &str,
    n_features: usize,
    depth: usize,
) -> Result<Kernel, LoadError> {
    if depth > MAX_DEPTH {
        return Err(owner.malformed(name, "nests kernels too deeply"));
    }
    let state =
        State::of(heap, value, path).map_err(|_| owner.malformed(name, "is not a kernel"))?;
    let inner = |attr: &str| {
        let value = state.get(attr)?;
        read_at(
            heap,
            value,
            &path.join(attr),
            owner,
            &format!("{name}.{attr}"),
            n_features,
            depth + 1,
        )
    };
    let here = |attr: &str| format!("{name}.{attr}");
    let positive = |attr: &str| -> Result<f64, LoadError> {
        let v = state
            .number(attr)?
            .ok_or_else(|| owner.malformed(&here(attr), "is missing"))?;
        if !(v.is_finite() && v > 0.0) {
            return Err(owner.malformed(&here(attr), format!("is {v}, not a positive number")));
        }
        Ok(v)
    };
    let finite = |attr: &str| -> Result<f64, LoadError> {
        let v = state
            .number(attr)?
            .ok_or_else(|| owner.malformed(&here(attr), "is missing"))?;
        if !v.is_finite() {
            return Err(owner.malformed(&here(attr), format!("is {v}, not a finite number")));
        }
        Ok(v)
    };
    Ok(match state.class {
        SkClass::RbfKernel => Kernel::Rbf {
            length_scale: length_scales(&state, owner, &here("length_scale"), n_features)?,
        },
        SkClass::MaternKernel => {
            let nu = state
                .number("nu")?
                .ok_or_else(|| owner.malformed(&here("nu"), "is missing"))?;
            let nu = match nu {
                0.5 => Nu::Half,
                1.5 => Nu::ThreeHalves,
                2.5 => Nu::FiveHalves,
                v if v == f64::INFINITY => Nu::Infinite,
                other => {
                    return Err(owner.unsupported(format!(
                        "{name} is a Matern kernel with nu={other}: skserve computes the closed \
                         forms (nu 0.5, 1.5, 2.5 and inf), not the modified Bessel function \
                         the others need"
                    )));
                }
            };
            Kernel::Matern {
                length_scale: length_scales(&state, owner, &here("length_scale"), n_features)?,
                nu,
            }
        }
        SkClass::RationalQuadraticKernel => Kernel::RationalQuadratic {
            length_scale: positive("length_scale")?,
            alpha: positive("alpha")?,
        },
        SkClass::ExpSineSquaredKernel => Kernel::ExpSineSquared {
            length_scale: positive("length_scale")?,
            periodicity: positive("periodicity")?,
        },
        SkClass::DotProductKernel => Kernel::DotProduct {
            sigma_0: finite("sigma_0")?,
        },
        SkClass::WhiteKernel => Kernel::White {
            noise_level: finite("noise_level")?,
        },
        SkClass::ConstantKernel => Kernel::Constant {
            value: finite("constant_value")?,
        },
        SkClass::SumKernel => Kernel::Sum(Box::new(inner("k1")?), Box::new(inner("k2")?)),
        SkClass::ProductKernel => Kernel::Product(Box::new(inner("k1")?), Box::new(inner("k2")?)),
        SkClass::ExponentiationKernel => {
            Kernel::Exponentiation(Box::new(inner("kernel")?), finite("exponent")?)
        }
        SkClass::PairwiseKernel => pairwise_kernel(&state, owner, name, n_features)?,
        SkClass::CompoundKernel => {
            return Err(owner.unsupported(format!(
                "{name} is a CompoundKernel, which gives several kernel matrices at once: \
                 neither Gaussian process predicts with it"
            )));
        }
        other => {
            return Err(owner.malformed(name, format!("is a {}, not a kernel", other.name())));
        }
    })
}

/// `length_scale`: one positive number, or one per feature.
fn length_scales(
    state: &State<'_>,
    owner: &State<'_>,
    name: &str,
    n_features: usize,
) -> Result<Vec<f64>, LoadError> {
    let value = state.get("length_scale")?;
    let (values, shape) = numbers_of(state.heap, value)
        .ok_or_else(|| owner.malformed(name, "is not a number or an array of them"))?;
    let fits = match shape.len() {
        0 => true,
        1 => values.len() == 1 || values.len() == n_features,
        _ => false,
    };
    if !fits {
        return Err(owner.malformed(
            name,
            format!("has shape {shape:?}: one length scale, or one per feature ({n_features})"),
        ));
    }
    if let Some(v) = values.iter().find(|v| !(v.is_finite() && **v > 0.0)) {
        return Err(owner.malformed(name, format!("holds {v}, not a positive number")));
    }
    Ok(values)
}

/// PairwiseKernel: a kernel of `pairwise_kernels` by name, `gamma` its own, `degree` and
/// `coef0` from `pairwise_kernels_kwargs`.
fn pairwise_kernel(
    state: &State<'_>,
    owner: &State<'_>,
    name: &str,
    n_features: usize,
) -> Result<Kernel, LoadError> {
    let metric = state.text("metric").ok_or_else(|| {
        owner.unsupported(format!(
            "{name}.metric is not a kernel's name (a callable metric would have to run)"
        ))
    })?;
    let gamma = state.number("gamma")?;
    let (mut degree, mut coef0) = (3.0, 1.0);
    if let Some(kwargs) = state
        .attr("pairwise_kernels_kwargs")
        .filter(|v| *v != Value::None)
    {
        let dict = state.heap.str_dict(kwargs).ok_or_else(|| {
            owner.malformed(&format!("{name}.pairwise_kernels_kwargs"), "is not a dict")
        })?;
        for (key, v) in dict {
            let number = number_of(state.heap, v).filter(|n| n.is_finite());
            match (key, number) {
                ("degree", Some(d)) => degree = d,
                ("coef0", Some(c)) => coef0 = c,
                (other, _) => {
                    return Err(owner.unsupported(format!(
                        "{name}.pairwise_kernels_kwargs[{other:?}] is not a parameter skserve \
                         passes to a kernel"
                    )));
                }
            }
        }
    }
    let kernel = Pairwise::from_name(metric, gamma, degree, coef0, n_features)
        .map_err(|e| owner.unsupported(format!("{name}.metric: {e}")))?;
    Ok(Kernel::Pairwise(kernel))
}

/// Rows divided by their length scales.
fn scaled(x: ArrayView2<'_, f64>, length_scale: &[f64]) -> Array2<f64> {
    let mut out = x.as_standard_layout().into_owned();
    for mut row in out.rows_mut() {
        for (j, v) in row.iter_mut().enumerate() {
            *v /= length_scale[if length_scale.len() == 1 { 0 } else { j }];
        }
    }
    out
}

/// Fixed rows laid out for [`Blocked::by_distance`] ([`Interleaved`]: many sums side by side
/// in vector registers, each `Σ (u − v)²` summed in order as scipy's
/// `cdist(metric="sqeuclidean")` sums it, the same values to the bit). Made once for the
/// training rows a model keeps, rather than at every call.
#[derive(Clone, Debug)]
struct Blocked(Interleaved);

impl Blocked {
    fn new(y: ArrayView2<'_, f64>) -> Self {
        Self(Interleaved::new(y))
    }

    /// `f` of the squared distance of every row of `x` to every one of these rows; the loop
    /// runs [`wide`].
    fn by_distance(&self, x: ArrayView2<'_, f64>, f: impl Fn(f64) -> f64) -> Array2<f64> {
        let n = self.0.n_rows();
        let x = x.as_standard_layout();
        let mut out = Array2::zeros((x.nrows(), n));
        if n == 0 {
            return out;
        }
        let d = x.ncols();
        let flat = out.as_slice_mut().expect("a new array is contiguous");
        let xs = x.as_slice().expect("standard layout");
        wide(
            #[inline(always)]
            || {
                if d == 0 {
                    flat.fill(0.0);
                } else {
                    for (a, o) in xs.chunks_exact(d).zip(flat.chunks_exact_mut(n)) {
                        self.0.squared_distances(a, o);
                    }
                }
                // `f` over the finished block in a pass of its own, which vectorises where
                // `f` does (the RBF's `exp`), rather than lane by lane amid the sums.
                for v in flat.iter_mut() {
                    *v = f(*v);
                }
            },
        );
        out
    }
}

/// What a kernel's matrix against fixed rows can compute once, in the kernel's own shape:
/// the rows (divided by each RBF's or Matern's length scales) laid out for the distances.
#[derive(Clone, Debug)]
enum Prepared {
    Nothing,
    Rows(Blocked),
    Two(Box<Prepared>, Box<Prepared>),
    One(Box<Prepared>),
}

/// A kernel with the training rows every prediction evaluates it against (`k(X, X_train_)`),
/// their length-scaled copies made once at load rather than at every call.
#[derive(Clone, Debug)]
pub struct Against {
    kernel: Kernel,
    rows: Array2<f64>,
    prepared: Prepared,
}

impl Against {
    /// `kernel` against `rows`, what it prepares of them charged to `state`'s load first.
    pub fn read(state: &State<'_>, kernel: Kernel, rows: Array2<f64>) -> Result<Self, LoadError> {
        let (n, d) = rows.dim();
        let bytes = kernel.prepared_bytes(n, d);
        crate::model::fitted::charge_derived(
            state,
            "its training rows laid out for the kernel",
            bytes,
        )?;
        Ok(Self::new(kernel, rows))
    }

    pub fn new(kernel: Kernel, rows: Array2<f64>) -> Self {
        let prepared = kernel.prepare(rows.view());
        Self {
            kernel,
            rows,
            prepared,
        }
    }

    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// The training rows.
    pub fn rows(&self) -> &Array2<f64> {
        &self.rows
    }

    /// `k(X, rows)`: rows of `x` × the training rows.
    pub fn matrix(&self, x: ArrayView2<'_, f64>) -> Array2<f64> {
        self.kernel
            .matrix_prepared(x, self.rows.view(), &self.prepared)
    }
}

impl Kernel {
    /// The bytes [`Kernel::prepare`] keeps of `n` rows of `d` features.
    fn prepared_bytes(&self, n: usize, d: usize) -> usize {
        match self {
            Self::Rbf { .. }
            | Self::Matern { .. }
            | Self::RationalQuadratic { .. }
            | Self::ExpSineSquared { .. } => Interleaved::<f64>::bytes(n, d),
            Self::Sum(a, b) | Self::Product(a, b) => a
                .prepared_bytes(n, d)
                .saturating_add(b.prepared_bytes(n, d)),
            Self::Exponentiation(k, _) => k.prepared_bytes(n, d),
            _ => 0,
        }
    }

    /// What [`Kernel::matrix`] computes of `y` alone.
    fn prepare(&self, y: ArrayView2<'_, f64>) -> Prepared {
        match self {
            Self::Rbf { length_scale } | Self::Matern { length_scale, .. } => {
                Prepared::Rows(Blocked::new(scaled(y, length_scale).view()))
            }
            Self::RationalQuadratic { .. } | Self::ExpSineSquared { .. } => {
                Prepared::Rows(Blocked::new(y))
            }
            Self::Sum(a, b) | Self::Product(a, b) => {
                Prepared::Two(Box::new(a.prepare(y)), Box::new(b.prepare(y)))
            }
            Self::Exponentiation(k, _) => Prepared::One(Box::new(k.prepare(y))),
            _ => Prepared::Nothing,
        }
    }

    /// `k(X, Y)`: rows of `x` × rows of `y`, two different sets of rows.
    pub fn matrix(&self, x: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Array2<f64> {
        self.matrix_prepared(x, y, &self.prepare(y))
    }

    /// [`Kernel::matrix`] with what `prepare(y)` made of `y`.
    fn matrix_prepared(
        &self,
        x: ArrayView2<'_, f64>,
        y: ArrayView2<'_, f64>,
        prepared: &Prepared,
    ) -> Array2<f64> {
        let scaled_y = || match prepared {
            Prepared::Rows(rows) => rows,
            _ => unreachable!("a kernel of distances prepares its rows"),
        };
        let parts = || match prepared {
            Prepared::Two(a, b) => (&**a, &**b),
            _ => unreachable!("a sum or product prepares both of its kernels"),
        };
        match self {
            Self::Rbf { length_scale } => {
                scaled_y().by_distance(scaled(x, length_scale).view(), |d| exp(-0.5 * d))
            }
            Self::Matern { length_scale, nu } => {
                let nu = *nu;
                scaled_y().by_distance(scaled(x, length_scale).view(), move |d2| {
                    let d = d2.sqrt();
                    match nu {
                        Nu::Half => (-d).exp(),
                        Nu::ThreeHalves => {
                            let k = d * 3f64.sqrt();
                            (1.0 + k) * (-k).exp()
                        }
                        Nu::FiveHalves => {
                            let k = d * 5f64.sqrt();
                            (1.0 + k + k * k / 3.0) * (-k).exp()
                        }
                        Nu::Infinite => (-(d * d) / 2.0).exp(),
                    }
                })
            }
            Self::RationalQuadratic {
                length_scale,
                alpha,
            } => {
                let (l, a) = (*length_scale, *alpha);
                scaled_y().by_distance(x, |d| (1.0 + d / (2.0 * a * (l * l))).powf(-a))
            }
            Self::ExpSineSquared {
                length_scale,
                periodicity,
            } => {
                let (l, p) = (*length_scale, *periodicity);
                scaled_y().by_distance(x, |d2| {
                    let s = (std::f64::consts::PI / p * d2.sqrt()).sin() / l;
                    (-2.0 * (s * s)).exp()
                })
            }
            Self::DotProduct { sigma_0 } => x.dot(&y.t()) + sigma_0 * sigma_0,
            Self::White { .. } => Array2::zeros((x.nrows(), y.nrows())),
            Self::Constant { value } => Array2::from_elem((x.nrows(), y.nrows()), *value),
            // A WhiteKernel is 0 between different rows: the sum is the other kernel's
            // matrix, without a matrix of zeros made and added.
            Self::Sum(a, b) if matches!(**b, Self::White { .. }) => {
                a.matrix_prepared(x, y, parts().0)
            }
            Self::Sum(a, b) if matches!(**a, Self::White { .. }) => {
                b.matrix_prepared(x, y, parts().1)
            }
            Self::Sum(a, b) => {
                let (pa, pb) = parts();
                a.matrix_prepared(x, y, pa) + b.matrix_prepared(x, y, pb)
            }
            Self::Product(a, b) => {
                let (pa, pb) = parts();
                a.matrix_prepared(x, y, pa) * b.matrix_prepared(x, y, pb)
            }
            Self::Exponentiation(k, e) => {
                let Prepared::One(inner) = prepared else {
                    unreachable!("an exponentiation prepares its kernel")
                };
                k.matrix_prepared(x, y, inner).mapv(|v| v.powf(*e))
            }
            Self::Pairwise(kernel) => kernel.matrix(x, y),
        }
    }

    /// `k.diag(X)`: each row with itself.
    pub fn diag(&self, x: ArrayView2<'_, f64>) -> Array1<f64> {
        let n = x.nrows();
        match self {
            Self::Rbf { .. }
            | Self::Matern { .. }
            | Self::RationalQuadratic { .. }
            | Self::ExpSineSquared { .. } => Array1::ones(n),
            Self::DotProduct { sigma_0 } => x
                .rows()
                .into_iter()
                .map(|r| r.iter().fold(0.0, |s, v| s + v * v) + sigma_0 * sigma_0)
                .collect(),
            Self::White { noise_level } => Array1::from_elem(n, *noise_level),
            Self::Constant { value } => Array1::from_elem(n, *value),
            Self::Sum(a, b) => a.diag(x) + b.diag(x),
            Self::Product(a, b) => a.diag(x) * b.diag(x),
            Self::Exponentiation(k, e) => k.diag(x).mapv(|v| v.powf(*e)),
            Self::Pairwise(kernel) => x
                .rows()
                .into_iter()
                .map(|r| {
                    let row = r.insert_axis(ndarray::Axis(0));
                    kernel.matrix(row, row)[[0, 0]]
                })
                .collect(),
        }
    }

    /// How `inspect` names it: `Sum(Product(ConstantKernel, Matern), WhiteKernel)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Rbf { .. } => "RBF".into(),
            Self::Matern { nu, .. } => format!("Matern(nu={nu:?})"),
            Self::RationalQuadratic { .. } => "RationalQuadratic".into(),
            Self::ExpSineSquared { .. } => "ExpSineSquared".into(),
            Self::DotProduct { .. } => "DotProduct".into(),
            Self::White { .. } => "WhiteKernel".into(),
            Self::Constant { .. } => "ConstantKernel".into(),
            Self::Sum(a, b) => format!("Sum({}, {})", a.describe(), b.describe()),
            Self::Product(a, b) => format!("Product({}, {})", a.describe(), b.describe()),
            Self::Exponentiation(k, e) => format!("Exponentiation({}, {e})", k.describe()),
            Self::Pairwise(k) => format!("PairwiseKernel({})", k.name()),
        }
    }
}

/// Solves `L v = b` for a lower-triangular `L` whose diagonal has no zero (checked at load),
/// by forward substitution: what `solve_triangular(L, b, lower=True)` computes.
pub fn solve_lower(l: &Array2<f64>, b: &mut [f64]) {
    for i in 0..b.len() {
        let row = l.row(i);
        let mut s = b[i];
        for (lij, bj) in row.iter().zip(b.iter()).take(i) {
            s -= lij * bj;
        }
        b[i] = s / row[i];
    }
}

/// Checks that `l` is square of side `n`, lower triangular, with a diagonal without zeros.
pub fn check_lower(
    owner: &State<'_>,
    name: &str,
    l: &Array2<f64>,
    n: usize,
) -> Result<(), LoadError> {
    if l.dim() != (n, n) {
        return Err(owner.malformed(
            name,
            format!("has shape {:?}, expected [{n}, {n}]", l.dim()),
        ));
    }
    if let Some(i) = (0..n).find(|&i| l[[i, i]] == 0.0) {
        return Err(owner.malformed(name, format!("has a zero on its diagonal at {i}")));
    }
    Ok(())
}
