//! Multi-head matrix multiplication: the notes' `(w @ x).squeeze(-1)` and `(x @ w).squeeze(-2)`.
//!
//! Floats run one GEMM per head (the `gemm` crate, whose run-time dispatched kernels use AVX-512
//! where the CPU has it and which handles any strides) written straight into the head's strided
//! `(b, n)` slice of the `(b, m, n)` output; heads run in parallel on rayon's pool once the product
//! is big enough to pay for it. The heads-first form (one matrix-vector product per head) uses
//! ndarray's `general_mat_vec_mul`. Integers run a register- and
//! cache-blocked kernel of this module: ndarray's integer matmul is a naive triple loop.

use std::borrow::Cow;

use ndarray::linalg::general_mat_vec_mul;
use ndarray::{Array2, Array3, ArrayBase, ArrayView, ArrayView1, ArrayView2, ArrayView3};
use ndarray::{ArrayViewMut2, ArrayViewMut3, Axis, Data, Dimension, Ix1, Ix2, Ix3};

use crate::Error;
use crate::heads::par_heads;

/// Below this many multiply-adds a product runs as a plain loop on the calling thread: packing
/// buffers, GEMM set-up and rayon's hand-off cost more than the arithmetic (the notes' examples
/// are 60 multiply-adds).
const SMALL_MACS: usize = 16 * 1024;

/// Below this many multiply-adds the heads are not split across threads.
const PARALLEL_MACS: usize = 256 * 1024;

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
    impl Sealed for i32 {}
    impl Sealed for i64 {}
}

/// An element type that [`heads_first`] and [`batched`] accept: `f32`, `f64`, `i32` and `i64`.
///
/// Integer products wrap on overflow, as numpy's do.
pub trait MultiHeadElement:
    sealed::Sealed + Copy + Send + Sync + Default + std::fmt::Debug + 'static
{
    /// Computes `out[b, i, j] = sum_k x[b, k] * w[i, k, j]` for checked shapes.
    #[doc(hidden)]
    fn batched_kernel(
        x: ArrayView2<'_, Self>,
        w: ArrayView3<'_, Self>,
        out: ArrayViewMut3<'_, Self>,
    );

    /// Computes `out[i, j] = sum_k w[i, j, k] * x[k]` for checked shapes.
    #[doc(hidden)]
    fn heads_first_kernel(
        w: ArrayView3<'_, Self>,
        x: ArrayView1<'_, Self>,
        out: ArrayViewMut2<'_, Self>,
    );
}

/// `y = (w @ x).squeeze(-1)`: maps a `d`-vector `x` to an `m×n` matrix with a `(m, n, d)` tensor,
/// `y[i, j] = <w[i, j, :], x>`.
///
/// Any views and strides are accepted without copying.
///
/// # Errors
/// [`Error::ShapeMismatch`] (naming both shapes) when `w`'s last dimension is not `x`'s length.
///
/// # Examples
/// ```
/// use ndarray::{Array, Array1};
/// let x: Array1<i64> = Array::from_iter((0..5).rev().map(|p| 100_i64.pow(p)));
/// let w = Array::from_iter(0..60_i64).into_shape_with_order((3, 4, 5)).unwrap();
/// let y = notes_tensor::heads_first(&w, &x)?;
/// assert_eq!(y[[0, 1]], 506070809);
/// # Ok::<(), notes_tensor::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn heads_first<A, S1, S2>(
    w: &ArrayBase<S1, Ix3>,
    x: &ArrayBase<S2, Ix1>,
) -> Result<Array2<A>, Error>
where
    A: MultiHeadElement,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let (m, n, d) = w.dim();
    if d != x.len() {
        return Err(Error::ShapeMismatch {
            op: "heads_first",
            what: "the last dimension of w must equal the length of x",
            left_name: "w",
            left: w.shape().to_vec(),
            right_name: "x",
            right: x.shape().to_vec(),
        });
    }
    let mut out = Array2::from_shape_vec((m, n), zeroed("heads_first", &[m, n])?)
        .map_err(|_| too_large("heads_first", &[m, n]))?;
    A::heads_first_kernel(w.view(), x.view(), out.view_mut());
    Ok(out)
}

/// `y = (x @ w).squeeze(-2)` for `x: (b, d)` and `w: (m, d, n)`: `y[b, i, j] = sum_k x[b, k] w[i, k, j]`,
/// one `(b, n)` product per head `i`.
///
/// Any views and strides are accepted without copying.
///
/// # Errors
/// [`Error::ShapeMismatch`] (naming both shapes) when `x`'s second dimension is not `w`'s second.
///
/// # Examples
/// ```
/// use ndarray::Array;
/// let x = Array::from_iter((0..6).rev().map(|p| 100_i64.pow(p))).into_shape_with_order((2, 3)).unwrap();
/// let w = Array::from_iter(0..60_i64).into_shape_with_order((5, 3, 4)).unwrap();
/// let y = notes_tensor::batched(&x, &w)?;
/// assert_eq!(y.shape(), &[2, 5, 4]);
/// assert_eq!(y[[1, 0, 1]], 10509);
/// # Ok::<(), notes_tensor::Error>(())
/// ```
#[tracing::instrument(level = "debug", skip_all)]
pub fn batched<A, S1, S2>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix3>,
) -> Result<Array3<A>, Error>
where
    A: MultiHeadElement,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let (b, m, n) = batched_out_dim(x.view(), w.view())?;
    let mut out = Array3::from_shape_vec((b, m, n), zeroed("batched", &[b, m, n])?)
        .map_err(|_| too_large("batched", &[b, m, n]))?;
    A::batched_kernel(x.view(), w.view(), out.view_mut());
    Ok(out)
}

/// [`batched`] into a caller's `(b, m, n)` output view (which may be strided), overwriting it.
///
/// # Errors
/// [`Error::ShapeMismatch`] when `x` and `w` do not fit together or `out` is not `(b, m, n)`.
pub fn batched_into<A, S1, S2>(
    x: &ArrayBase<S1, Ix2>,
    w: &ArrayBase<S2, Ix3>,
    out: ArrayViewMut3<'_, A>,
) -> Result<(), Error>
where
    A: MultiHeadElement,
    S1: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    let (b, m, n) = batched_out_dim(x.view(), w.view())?;
    if out.dim() != (b, m, n) {
        return Err(Error::ShapeMismatch {
            op: "batched_into",
            what: "out must have shape (b, m, n) for x: (b, d) and w: (m, d, n)",
            left_name: "out",
            left: out.shape().to_vec(),
            right_name: "the product",
            right: vec![b, m, n],
        });
    }
    A::batched_kernel(x.view(), w.view(), out);
    Ok(())
}

fn batched_out_dim<A>(
    x: ArrayView2<'_, A>,
    w: ArrayView3<'_, A>,
) -> Result<(usize, usize, usize), Error> {
    let (b, d) = x.dim();
    let (m, dw, n) = w.dim();
    if d != dw {
        return Err(Error::ShapeMismatch {
            op: "batched",
            what: "the second dimension of x must equal the second dimension of w",
            left_name: "x",
            left: x.shape().to_vec(),
            right_name: "w",
            right: w.shape().to_vec(),
        });
    }
    Ok((b, m, n))
}

/// Refuses output shapes whose element count overflows (ndarray would panic).
fn checked_len(op: &'static str, shape: &[usize]) -> Result<usize, Error> {
    let len = shape.iter().try_fold(1_usize, |acc, &s| acc.checked_mul(s));
    match len {
        Some(len) if len <= isize::MAX as usize => Ok(len),
        _ => Err(too_large(op, shape)),
    }
}

fn too_large(op: &'static str, shape: &[usize]) -> Error {
    Error::TooLarge {
        op,
        shape: shape.to_vec(),
    }
}

/// The output's elements, all `A::default()`, allocated fallibly: an output bigger than the
/// memory the system grants is [`Error::OutOfMemory`], not an abort.
fn zeroed<A: Clone + Default>(op: &'static str, shape: &[usize]) -> Result<Vec<A>, Error> {
    let len = checked_len(op, shape)?;
    let mut elems = Vec::new();
    elems
        .try_reserve_exact(len)
        .map_err(|_| Error::OutOfMemory {
            op,
            shape: shape.to_vec(),
            bytes: len.saturating_mul(size_of::<A>()),
        })?;
    elems.resize(len, A::default());
    Ok(elems)
}

fn macs(dims: &[usize]) -> usize {
    dims.iter().fold(1_usize, |acc, &s| acc.saturating_mul(s))
}

// ---------------------------------------------------------------------------------------------
// Floats: the `gemm` crate per head.
//
// matrixmultiply (ndarray's `general_mat_mul`) has AVX2 kernels only; gemm picks AVX-512 kernels
// at run time where the CPU has them, which on a core with 512-bit FMA datapaths (Zen 5, recent
// Xeons) doubles the FLOP rate. gemm takes any row and column strides, including negative ones,
// so it reads views in place and writes each head straight into its strided slice of the output.

/// One head: `out (b×n) = x (b×d) · w_i (d×n)`, every operand in place with its own strides.
fn gemm_head<T: Copy + 'static>(
    x: ArrayView2<'_, T>,
    w_i: ArrayView2<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
    zero: T,
    one: T,
    parallelism: gemm::Parallelism,
) {
    let (b, d) = x.dim();
    let (dw, n) = w_i.dim();
    assert!(
        dw == d && out.dim() == (b, n),
        "gemm_head: shapes checked by the caller"
    );
    let (xs, ws, os) = (x.strides(), w_i.strides(), out.strides());
    let (xs, ws, os) = ([xs[0], xs[1]], [ws[0], ws[1]], [os[0], os[1]]);
    // SAFETY: the pointers and element strides describe the three views exactly (ndarray
    // guarantees every index within their dimensions is in bounds), the shapes agree (asserted
    // above), `out` is a unique mutable view so it overlaps neither input, and with
    // `read_dst = false` gemm writes `beta · x·w_i` (beta = 1) without reading `out`. gemm is only
    // called with T = f32 or f64, which it implements.
    #[allow(unsafe_code)]
    unsafe {
        gemm::gemm(
            b,
            n,
            d,
            out.as_mut_ptr(),
            os[1],
            os[0],
            false,
            x.as_ptr(),
            xs[1],
            xs[0],
            w_i.as_ptr(),
            ws[1],
            ws[0],
            zero,
            one,
            false,
            false,
            false,
            parallelism,
        );
    }
}

macro_rules! float_element {
    ($t:ty) => {
        impl MultiHeadElement for $t {
            fn batched_kernel(
                x: ArrayView2<'_, $t>,
                w: ArrayView3<'_, $t>,
                mut out: ArrayViewMut3<'_, $t>,
            ) {
                let (b, d) = x.dim();
                let (m, _, n) = w.dim();
                let work = macs(&[b, m, d, n]);
                let head = |w_i, out_i, par| gemm_head(x, w_i, out_i, 0.0, 1.0, par);
                if work < SMALL_MACS {
                    small_batched(x, w, out, |x, w, out, dims| {
                        small_batched_slices(x, w, out, dims, &|acc, a, b| acc + a * b)
                    });
                } else if work < PARALLEL_MACS || rayon::current_num_threads() == 1 {
                    for (w_i, out_i) in w.outer_iter().zip(out.axis_iter_mut(Axis(1))) {
                        head(w_i, out_i, gemm::Parallelism::None);
                    }
                } else if m < rayon::current_num_threads() {
                    // Fewer heads than threads: split inside each product instead.
                    let par = gemm::Parallelism::Rayon(rayon::current_num_threads());
                    for (w_i, out_i) in w.outer_iter().zip(out.axis_iter_mut(Axis(1))) {
                        head(w_i, out_i, par);
                    }
                } else {
                    par_heads(
                        w.outer_iter().zip(out.axis_iter_mut(Axis(1))),
                        |(w_i, out_i)| head(w_i, out_i, gemm::Parallelism::None),
                    );
                }
            }

            fn heads_first_kernel(
                w: ArrayView3<'_, $t>,
                x: ArrayView1<'_, $t>,
                mut out: ArrayViewMut2<'_, $t>,
            ) {
                let (m, n, d) = w.dim();
                let work = macs(&[m, n, d]);
                if work < SMALL_MACS {
                    naive_heads_first(w, x, out, |acc, a, b| acc + a * b);
                } else if work < PARALLEL_MACS || m == 1 {
                    for (w_i, mut out_i) in w.outer_iter().zip(out.outer_iter_mut()) {
                        general_mat_vec_mul(1.0, &w_i, &x, 0.0, &mut out_i);
                    }
                } else {
                    par_heads(
                        w.outer_iter().zip(out.outer_iter_mut()),
                        |(w_i, mut out_i)| general_mat_vec_mul(1.0, &w_i, &x, 0.0, &mut out_i),
                    );
                }
            }
        }
    };
}

float_element!(f32);
float_element!(f64);

/// The direct loop for tiny products: no packing, no set-up, no thread hand-off.
///
/// Inputs are read as contiguous row-major slices (borrowed when they already are, else copied,
/// which costs no more than the product reads anyway) and the output is written through a slice
/// (a buffer copied into `out` when `out` is not row-major), so the loops run on plain slice
/// iterators instead of ndarray's bounds-checked multi-index (which made the notes' 120
/// multiply-adds cost about 110 ns). Each output element still sums its `d` products in order
/// from zero, exactly as the reference does, so float results are unchanged bit for bit.
fn small_batched<A: Copy + Default>(
    x: ArrayView2<'_, A>,
    w: ArrayView3<'_, A>,
    mut out: ArrayViewMut3<'_, A>,
    kernel: impl Fn(&[A], &[A], &mut [A], (usize, usize, usize)),
) {
    let (b, d) = x.dim();
    let (m, _, n) = w.dim();
    if out.is_empty() {
        return;
    }
    if d == 0 {
        out.fill(A::default());
        return;
    }
    let (x, w) = (contiguous(x), contiguous(w));
    match out.as_slice_mut() {
        Some(out) => kernel(&x, &w, out, (d, m, n)),
        None => {
            let mut tmp = vec![A::default(); b * m * n];
            kernel(&x, &w, &mut tmp, (d, m, n));
            for (dst, src) in out.iter_mut().zip(tmp) {
                *dst = src;
            }
        }
    }
}

/// Output columns per register block of the tiny-product loop.
const SMALL_COLS: usize = 4;

/// `out (b×m×n) = x (b×d) · w (m×d×n)` on row-major slices; `d`, `m` and `n` are non-zero.
///
/// Each block of [`SMALL_COLS`] output elements sums in a fixed-size local array, which the
/// compiler keeps in registers for the whole `k` loop: accumulating in `out` itself would reload
/// each element right after storing it, and when the compiler writes and reads it at different
/// widths (scalar stores, vector loads) the store cannot be forwarded and every reload stalls.
#[inline(always)]
fn small_batched_slices<A: Copy + Default>(
    x: &[A],
    w: &[A],
    out: &mut [A],
    (d, m, n): (usize, usize, usize),
    mac: &impl Fn(A, A, A) -> A,
) {
    for (x_b, out_b) in x.chunks_exact(d).zip(out.chunks_exact_mut(m * n)) {
        for (w_i, out_bi) in w.chunks_exact(d * n).zip(out_b.chunks_exact_mut(n)) {
            let mut blocks = out_bi.chunks_exact_mut(SMALL_COLS);
            for (c, block) in (&mut blocks).enumerate() {
                let j0 = c * SMALL_COLS;
                let mut acc = [A::default(); SMALL_COLS];
                for (&x_bk, w_ik) in x_b.iter().zip(w_i.chunks_exact(n)) {
                    let w_ikj = &w_ik[j0..j0 + SMALL_COLS];
                    for (a, &w_v) in acc.iter_mut().zip(w_ikj) {
                        *a = mac(*a, x_bk, w_v);
                    }
                }
                block.copy_from_slice(&acc);
            }
            let rest = blocks.into_remainder();
            let j0 = n - rest.len();
            for (j, o) in (j0..n).zip(rest) {
                *o = x_b
                    .iter()
                    .zip(w_i[j..].iter().step_by(n))
                    .fold(A::default(), |acc, (&x_bk, &w_ikj)| mac(acc, x_bk, w_ikj));
            }
        }
    }
}

/// A view's elements in row-major order: borrowed when the view is already laid out so.
fn contiguous<'a, A: Copy, D: Dimension>(v: ArrayView<'a, A, D>) -> Cow<'a, [A]> {
    match v.to_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(v.iter().copied().collect()),
    }
}

fn naive_heads_first<A: Copy + Default>(
    w: ArrayView3<'_, A>,
    x: ArrayView1<'_, A>,
    mut out: ArrayViewMut2<'_, A>,
    mac: impl Fn(A, A, A) -> A,
) {
    let (m, n, d) = w.dim();
    if let (Some(ws), Some(xs), Some(os)) = (w.as_slice(), x.as_slice(), out.as_slice_mut()) {
        // Row-major: each output is one row of `w` against `x`, on slice iterators instead of
        // the bounds-checked multi-index below (the same sums in the same order).
        if d == 0 {
            os.fill(A::default());
            return;
        }
        for (y, row) in os.iter_mut().zip(ws.chunks_exact(d)) {
            *y = row
                .iter()
                .zip(xs)
                .fold(A::default(), |acc, (&a, &b)| mac(acc, a, b));
        }
        return;
    }
    for i in 0..m {
        for j in 0..n {
            let mut acc = A::default();
            for k in 0..d {
                acc = mac(acc, w[[i, j, k]], x[k]);
            }
            out[[i, j]] = acc;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Integers: a packed, register-blocked kernel.
//
// Per head, C (b×n) = A (b×d) · B (d×n). A is packed once into panels of R rows stored k-major
// (R values per k), each head's B into panels of W columns stored k-major (W values per k); a
// panel of B (d·W elements, 64 KiB for d = 512, i64) stays in L2 while every panel of A streams
// past it, and the R×W block of C lives in registers for the whole k loop, so each k step is R·W
// multiply-adds for R + W loads. Packing also makes every input stride (views, transposes)
// look contiguous to the kernel. The kernel is compiled three times (AVX-512, AVX2, baseline)
// and chosen at run time: with AVX-512DQ a 64-bit multiply is one instruction (`vpmullq`),
// without it the compiler emulates it from 32-bit halves.

/// Rows of C per register block.
const R: usize = 4;
/// Columns of C per register block.
const W: usize = 16;

trait IntOps: Copy + Default + Send + Sync {
    fn mac(self, a: Self, b: Self) -> Self;
}

impl IntOps for i64 {
    #[inline(always)]
    fn mac(self, a: i64, b: i64) -> i64 {
        self.wrapping_add(a.wrapping_mul(b))
    }
}

impl IntOps for i32 {
    #[inline(always)]
    fn mac(self, a: i32, b: i32) -> i32 {
        self.wrapping_add(a.wrapping_mul(b))
    }
}

/// A packs x (b×d) into ceil(b/R) panels of d×R, zero-padded past the last row.
fn pack_a<T: IntOps>(x: ArrayView2<'_, T>) -> Vec<T> {
    let (b, d) = x.dim();
    let panels = b.div_ceil(R);
    let mut packed = vec![T::default(); panels * d * R];
    for (p, panel) in packed.chunks_exact_mut(d * R).enumerate() {
        for r in 0..R {
            let row = p * R + r;
            if row < b {
                for (k, &v) in x.row(row).iter().enumerate() {
                    panel[k * R + r] = v;
                }
            }
        }
    }
    packed
}

/// Packs columns j0..j0+W of one head's B (d×n) as d×W, zero-padded past the last column.
fn pack_b<T: IntOps>(b: ArrayView2<'_, T>, j0: usize, panel: &mut [T]) {
    let (d, n) = b.dim();
    let width = W.min(n - j0);
    for k in 0..d {
        let dst = &mut panel[k * W..(k + 1) * W];
        for (c, slot) in dst.iter_mut().enumerate() {
            *slot = if c < width {
                b[[k, j0 + c]]
            } else {
                T::default()
            };
        }
    }
}

/// The R×W register block: `acc[r][c] = sum_k a[k*R + r] * b[k*W + c]`.
#[inline(always)]
fn micro_kernel<T: IntOps>(a: &[T], b: &[T]) -> [[T; W]; R] {
    let mut acc = [[T::default(); W]; R];
    for (ak, bk) in a.chunks_exact(R).zip(b.chunks_exact(W)) {
        for r in 0..R {
            let av = ak[r];
            for c in 0..W {
                acc[r][c] = acc[r][c].mac(av, bk[c]);
            }
        }
    }
    acc
}

/// One head: out (b×n, strided) = A (packed) · B.
#[inline(always)]
fn head_body<T: IntOps>(a_packed: &[T], b: ArrayView2<'_, T>, mut out: ArrayViewMut2<'_, T>) {
    let (d, n) = b.dim();
    let rows = out.nrows();
    let mut panel = vec![T::default(); d * W];
    for j0 in (0..n).step_by(W) {
        pack_b(b, j0, &mut panel);
        let width = W.min(n - j0);
        for (p, a_panel) in a_packed.chunks_exact(d * R).enumerate() {
            let acc = micro_kernel(a_panel, &panel);
            for (r, acc_r) in acc.iter().enumerate() {
                let row = p * R + r;
                if row >= rows {
                    break;
                }
                for (c, &v) in acc_r.iter().enumerate().take(width) {
                    out[[row, j0 + c]] = v;
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
fn head_avx512<T: IntOps>(a_packed: &[T], b: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
    head_body(a_packed, b, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn head_avx2<T: IntOps>(a_packed: &[T], b: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
    head_body(a_packed, b, out);
}

fn head<T: IntOps>(a_packed: &[T], b: ArrayView2<'_, T>, out: ArrayViewMut2<'_, T>) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has the features head_avx512 is compiled for (checked just above).
            #[allow(unsafe_code)]
            return unsafe { head_avx512(a_packed, b, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            #[allow(unsafe_code)]
            return unsafe { head_avx2(a_packed, b, out) };
        }
    }
    head_body(a_packed, b, out);
}

/// The tiny-product loop for integers, with 64-bit vector multiplies (`vpmullq`) where the CPU
/// has AVX-512DQ: without them the compiler keeps i64 multiplies scalar (one `imul` per
/// multiply-add, which bounds the loop), with them four multiply in one instruction. On the notes'
/// `(2, 3) @ (5, 3, 4)` example this takes a call from 71–72 ns to 58–60 ns on Zen 5. Not inlined,
/// so callers keep a small stack frame for the common case.
#[inline(never)]
fn small_int<T: IntOps>(x: &[T], w: &[T], out: &mut [T], dims: (usize, usize, usize)) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU has the features small_int_avx512 is compiled for (checked above).
            #[allow(unsafe_code)]
            return unsafe { small_int_avx512(x, w, out, dims) };
        }
    }
    small_batched_slices(x, w, out, dims, &T::mac);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx512vl")]
#[inline(never)]
fn small_int_avx512<T: IntOps>(x: &[T], w: &[T], out: &mut [T], dims: (usize, usize, usize)) {
    small_batched_slices(x, w, out, dims, &T::mac);
}

fn int_batched<T: IntOps>(
    x: ArrayView2<'_, T>,
    w: ArrayView3<'_, T>,
    mut out: ArrayViewMut3<'_, T>,
) {
    let (b, d) = x.dim();
    let (m, _, n) = w.dim();
    let work = macs(&[b, m, d, n]);
    if work < SMALL_MACS {
        small_batched(x, w, out, small_int::<T>);
        return;
    }
    let a_packed = pack_a(x);
    if work < PARALLEL_MACS || m == 1 {
        for (w_i, out_i) in w.outer_iter().zip(out.axis_iter_mut(Axis(1))) {
            head(&a_packed, w_i, out_i);
        }
    } else {
        par_heads(
            w.outer_iter().zip(out.axis_iter_mut(Axis(1))),
            |(w_i, out_i)| head(&a_packed, w_i, out_i),
        );
    }
}

fn int_heads_first<T: IntOps>(
    w: ArrayView3<'_, T>,
    x: ArrayView1<'_, T>,
    mut out: ArrayViewMut2<'_, T>,
) {
    let (m, n, d) = w.dim();
    if macs(&[m, n, d]) < PARALLEL_MACS || m == 1 {
        naive_heads_first(w, x, out, T::mac);
        return;
    }
    par_heads(
        w.outer_iter().zip(out.outer_iter_mut()),
        |(w_i, mut out_i)| {
            for (row, y) in w_i.outer_iter().zip(out_i.iter_mut()) {
                *y = row
                    .iter()
                    .zip(x.iter())
                    .fold(T::default(), |acc, (&a, &b)| acc.mac(a, b));
            }
        },
    );
}

impl MultiHeadElement for i64 {
    fn batched_kernel(x: ArrayView2<'_, i64>, w: ArrayView3<'_, i64>, out: ArrayViewMut3<'_, i64>) {
        int_batched(x, w, out);
    }

    fn heads_first_kernel(
        w: ArrayView3<'_, i64>,
        x: ArrayView1<'_, i64>,
        out: ArrayViewMut2<'_, i64>,
    ) {
        int_heads_first(w, x, out);
    }
}

impl MultiHeadElement for i32 {
    fn batched_kernel(x: ArrayView2<'_, i32>, w: ArrayView3<'_, i32>, out: ArrayViewMut3<'_, i32>) {
        int_batched(x, w, out);
    }

    fn heads_first_kernel(
        w: ArrayView3<'_, i32>,
        x: ArrayView1<'_, i32>,
        out: ArrayViewMut2<'_, i32>,
    ) {
        int_heads_first(w, x, out);
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array, Array1, Array3, ArrayView2, ArrayView3, s};
    use proptest::prelude::*;

    use super::*;

    fn reference_batched<A: Copy + Default>(
        x: ArrayView2<'_, A>,
        w: ArrayView3<'_, A>,
        mac: impl Fn(A, A, A) -> A,
    ) -> Array3<A> {
        let (b, d) = x.dim();
        let (m, _, n) = w.dim();
        Array3::from_shape_fn((b, m, n), |(bi, i, j)| {
            (0..d).fold(A::default(), |acc, k| mac(acc, x[[bi, k]], w[[i, k, j]]))
        })
    }

    #[test]
    fn an_output_too_big_to_allocate_is_an_error() {
        // d = 0: the inputs hold nothing, but the output would take 2^59 bytes.
        let x = Array2::<i64>::zeros((1 << 20, 0));
        let w = Array3::<i64>::zeros((1 << 20, 0, 1 << 16));
        let err = batched(&x, &w).unwrap_err();
        assert!(
            matches!(err, Error::OutOfMemory { bytes, .. } if bytes == 1 << 59),
            "{err}"
        );
        let w = Array3::<i64>::zeros((1 << 31, 1 << 30, 0));
        let err = heads_first(&w, &Array1::<i64>::zeros(0)).unwrap_err();
        assert!(matches!(err, Error::OutOfMemory { .. }), "{err}");
    }

    #[test]
    fn notes_examples() {
        let x: Array1<i64> = Array::from_iter((0..5).rev().map(|p| 100_i64.pow(p)));
        let w = Array::from_iter(0..60_i64)
            .into_shape_with_order((3, 4, 5))
            .unwrap();
        let y = heads_first(&w, &x).unwrap();
        assert_eq!(
            y.row(2).to_vec(),
            [4041424344, 4546474849, 5051525354, 5556575859]
        );
        let x = Array::from_iter((0..6).rev().map(|p| 100_i64.pow(p)))
            .into_shape_with_order((2, 3))
            .unwrap();
        let w = Array::from_iter(0..60_i64)
            .into_shape_with_order((5, 3, 4))
            .unwrap();
        let y = batched(&x, &w).unwrap();
        assert_eq!(y[[0, 0, 0]], 408000000);
        assert_eq!(y[[0, 4, 3]], 515559000000);
        assert_eq!(y[[1, 4, 3]], 515559);
    }

    #[test]
    fn shape_errors_name_both_shapes() {
        let x = Array2::<f32>::zeros((2, 3));
        let w = Array3::<f32>::zeros((5, 4, 6));
        let err = batched(&x, &w).unwrap_err().to_string();
        assert_eq!(
            err,
            "batched: the second dimension of x must equal the second dimension of w: x has shape [2, 3] but w has shape [5, 4, 6]"
        );
        let err = heads_first(&w, &Array1::<f32>::zeros(5))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[5, 4, 6]") && err.contains("[5]"), "{err}");
        let out = Array3::<f32>::zeros((2, 5, 5));
        let mut out = out;
        let w = Array3::<f32>::zeros((5, 3, 6));
        let err = batched_into(&x, &w, out.view_mut())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[2, 5, 5]") && err.contains("[2, 5, 6]"),
            "{err}"
        );
    }

    #[test]
    fn big_integer_product_matches_reference_with_strided_inputs() {
        // Sizes past SMALL_MACS and PARALLEL_MACS, ragged against R and W, with transposed and
        // sliced (non-contiguous) inputs and a strided output.
        let (b, m, d, n) = (13, 5, 70, 37);
        let x_big = Array::from_shape_fn((d, 2 * b), |(k, i)| (k as i64 * 7 - i as i64 * 3) % 11);
        let x = x_big.slice(s![.., ..;2]).reversed_axes();
        assert_eq!(x.dim(), (b, d));
        let w_big = Array::from_shape_fn((m, n, d + 3), |(i, j, k)| {
            ((i * 31 + j * 7 + k) % 13) as i64 - 6
        });
        let w = w_big.slice(s![.., .., 1..d + 1]).permuted_axes([0, 2, 1]);
        let expect = reference_batched(x, w, i64::mac);
        assert_eq!(batched(&x, &w).unwrap(), expect);
        let mut out_big = Array3::<i64>::zeros((b, m, 2 * n));
        batched_into(&x, &w, out_big.slice_mut(s![.., .., ..;2])).unwrap();
        assert_eq!(out_big.slice(s![.., .., ..;2]), expect);
        let x32 = x.mapv(|v| v as i32);
        let w32 = w.mapv(|v| v as i32);
        assert_eq!(batched(&x32, &w32).unwrap(), expect.mapv(|v| v as i32));
    }

    #[test]
    fn integer_products_wrap_like_numpy() {
        let x = Array2::from_elem((1, 2), i64::MAX);
        let w = Array3::from_elem((1, 2, 1), 2_i64);
        assert_eq!(
            batched(&x, &w).unwrap()[[0, 0, 0]],
            i64::MAX.wrapping_mul(2).wrapping_mul(2)
        );
    }

    #[test]
    fn big_float_products_match_reference() {
        let (b, m, d, n) = (9, 6, 80, 33);
        let x = Array::from_shape_fn((b, d), |(i, k)| ((i * 5 + k) % 7) as f64 - 3.0);
        let w_t = Array::from_shape_fn((m, n, d), |(i, j, k)| ((i + 3 * j + k) % 5) as f64 * 0.5);
        let w = w_t.view().permuted_axes([0, 2, 1]);
        let expect = reference_batched(x.view(), w, |acc, a, b| acc + a * b);
        let got = batched(&x, &w).unwrap();
        assert!(got.iter().zip(&expect).all(|(a, b)| (a - b).abs() < 1e-9));
        let got32 = batched(&x.mapv(|v| v as f32), &w.mapv(|v| v as f32)).unwrap();
        assert!(
            got32
                .iter()
                .zip(&expect)
                .all(|(&a, &b)| (f64::from(a) - b).abs() < 1e-3)
        );
        // heads_first over a big strided w (last axis reversed) and a strided x.
        let xs = Array1::from_shape_fn(2 * d, |k| (k % 9) as f64 - 4.0);
        let xv = xs.slice(s![..;2]);
        let wv = w_t.slice(s![.., .., ..;-1]);
        let y = heads_first(&wv, &xv).unwrap();
        for ((i, j), &v) in y.indexed_iter() {
            let e: f64 = (0..d).map(|k| wv[[i, j, k]] * xv[k]).sum();
            assert!((v - e).abs() < 1e-9);
        }
    }

    /// Checks `batched` and `batched_into` for f64 and f32 against the reference, with reversed
    /// (negative-stride) and transposed inputs and a non-contiguous, reversed output view.
    fn check_float_paths(b: usize, m: usize, d: usize, n: usize) {
        let x_t = Array::from_shape_fn((d, b), |(k, i)| ((i * 5 + k * 3) % 7) as f64 - 3.0);
        let x = x_t.slice(s![..;-1, ..]).reversed_axes();
        let w_big = Array::from_shape_fn((m, n, d + 2), |(i, j, k)| {
            ((i + 3 * j + k) % 5) as f64 * 0.5 - 1.0
        });
        let w = w_big
            .slice(s![..;-1, .., 1..d + 1])
            .permuted_axes([0, 2, 1]);
        let expect = reference_batched(x, w, |acc, a, b| acc + a * b);
        let close64 =
            |got: &Array3<f64>| got.iter().zip(&expect).all(|(a, b)| (a - b).abs() < 1e-9);
        assert!(close64(&batched(&x, &w).unwrap()), "f64 {b} {m} {d} {n}");
        let mut out_big = Array3::<f64>::from_elem((b, 2 * m, n + 1), f64::NAN);
        batched_into(&x, &w, out_big.slice_mut(s![.., ..;-2, 1..])).unwrap();
        assert!(close64(&out_big.slice(s![.., ..;-2, 1..]).to_owned()));
        // `..;-2` writes the odd heads 2m-1, 2m-3, ..., 1 and leaves the even ones alone.
        assert!(out_big.slice(s![.., ..;2, ..]).iter().all(|v| v.is_nan()));
        assert!(out_big.slice(s![.., .., 0]).iter().all(|v| v.is_nan()));
        let (x32, w32) = (x.mapv(|v| v as f32), w.mapv(|v| v as f32));
        let mut out32 = Array3::<f32>::zeros((n, m, b));
        let out32_view = out32.view_mut().permuted_axes([2, 1, 0]);
        batched_into(&x32, &w32, out32_view).unwrap();
        let got32 = out32.view().permuted_axes([2, 1, 0]);
        assert!(
            got32
                .iter()
                .zip(&expect)
                .all(|(&a, &b)| (f64::from(a) - b).abs() < 1e-3),
            "f32 {b} {m} {d} {n}"
        );
    }

    #[test]
    fn float_gemm_paths_match_reference_on_every_thread_count() {
        // Below SMALL_MACS (the plain loop), between the thresholds (heads in turn), past
        // PARALLEL_MACS with more heads than threads (heads split across threads) and with one
        // head (the split inside gemm), each on pools of 1, 2 and 3 threads.
        let shapes = [
            (2, 3, 5, 4),
            (9, 6, 80, 33),
            (20, 6, 64, 40),
            (33, 1, 100, 90),
            (3, 2, 500, 200),
        ];
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                for (b, m, d, n) in shapes {
                    check_float_paths(b, m, d, n);
                }
            });
        }
    }

    #[test]
    fn tiny_integer_products_read_reversed_and_strided_views() {
        let x_big = Array::from_shape_fn((4, 7), |(i, k)| (i * 7 + k) as i64 - 9);
        let x = x_big.slice(s![..;-2, 1..;2]);
        let w_big = Array::from_shape_fn((5, 8, 3), |(i, k, j)| (i * 24 + k * 3 + j) as i64 % 11);
        let w = w_big.slice(s![..;-1, ..;-2, ..]);
        assert_eq!(x.dim(), (2, 3));
        assert_eq!(w.dim(), (5, 4, 3));
        let w = w.slice(s![.., 1.., ..]);
        let expect = reference_batched(x, w, i64::mac);
        assert_eq!(batched(&x, &w).unwrap(), expect);
        let mut out = Array3::<i64>::zeros((3, 5, 2));
        batched_into(&x, &w, out.view_mut().permuted_axes([2, 1, 0])).unwrap();
        assert_eq!(out.view().permuted_axes([2, 1, 0]), expect);
    }

    type SmallKernel = fn(&[i64], &[i64], &mut [i64], (usize, usize, usize));

    #[test]
    fn small_path_matches_reference_for_every_layout() {
        // The slice loops of `small_batched` with borrowed (row-major) and copied (transposed)
        // inputs, writing a row-major output in place and a strided one through its buffer; the
        // outputs start as garbage so a missed element shows. Shapes include unit axes and d = 0.
        let shapes = [
            (2, 5, 3, 4),
            (1, 1, 1, 1),
            (3, 1, 7, 1),
            (1, 4, 1, 9),
            (5, 3, 2, 17),
            (2, 3, 0, 4),
        ];
        for (b, m, d, n) in shapes {
            let x = Array::from_shape_fn((b, d), |(i, k)| (i * 7 + k * 3) as i64 % 11 - 5);
            let w =
                Array::from_shape_fn((m, d, n), |(i, k, j)| (i * 13 + k * 5 + j) as i64 % 9 - 4);
            let x_t = x.t().to_owned();
            let w_t = w.view().permuted_axes([2, 1, 0]).to_owned();
            let expect = reference_batched(x.view(), w.view(), i64::mac);
            let inputs = [
                (x.view(), w.view()),
                (x_t.t(), w_t.view().permuted_axes([2, 1, 0])),
            ];
            // The dispatching kernel (AVX-512 where the CPU has it) and the portable one.
            let kernels: [SmallKernel; 2] = [small_int::<i64>, |x, w, out, dims| {
                small_batched_slices(x, w, out, dims, &i64::mac)
            }];
            for ((xv, wv), kernel) in inputs.into_iter().flat_map(|io| kernels.map(|k| (io, k))) {
                let mut out = Array3::from_elem((b, m, n), 99_i64);
                small_batched(xv, wv, out.view_mut(), kernel);
                assert_eq!(out, expect, "{b} {m} {d} {n}");
                let mut out_big = Array3::from_elem((b, m, 2 * n), 99_i64);
                small_batched(xv, wv, out_big.slice_mut(s![.., .., ..;-2]), kernel);
                assert_eq!(out_big.slice(s![.., .., ..;-2]), expect);
                assert!(out_big.slice(s![.., .., ..;2]).iter().all(|&v| v == 99));
            }
            let (xf, wf) = (x.mapv(|v| v as f64), w.mapv(|v| v as f64));
            let got = batched(&xf, &wf).unwrap();
            assert_eq!(got, expect.mapv(|v| v as f64));
        }
    }

    #[test]
    fn small_heads_first_matches_reference_for_every_layout() {
        let w = Array::from_shape_fn((3, 4, 5), |(i, j, k)| (i * 20 + j * 5 + k) as i64 - 30);
        let x = Array1::from_iter([7_i64, -2, 5, 11, -9]);
        let reference = |w: ArrayView3<'_, i64>, x: ndarray::ArrayView1<'_, i64>| {
            Array::from_shape_fn((w.dim().0, w.dim().1), |(i, j)| {
                (0..x.len()).map(|k| w[[i, j, k]] * x[k]).sum::<i64>()
            })
        };
        let wt = w.view().permuted_axes([1, 0, 2]).to_owned();
        for (wv, xv) in [
            (w.view(), x.view()),
            (w.slice(s![.., .., ..;-1]), x.slice(s![..;-1])),
            (wt.view().permuted_axes([1, 0, 2]), x.view()),
            (w.slice(s![.., 1..3, ..]), x.view()),
        ] {
            assert_eq!(heads_first(&wv, &xv).unwrap(), reference(wv, xv));
            let (wf, xf) = (wv.mapv(|v| v as f64 / 3.0), xv.mapv(|v| v as f64 / 7.0));
            let expected = Array::from_shape_fn((wf.dim().0, wf.dim().1), |(i, j)| {
                (0..xf.len()).fold(0.0, |acc, k| acc + wf[[i, j, k]] * xf[k])
            });
            assert_eq!(heads_first(&wf, &xf).unwrap(), expected);
        }
        let empty = Array3::<i64>::zeros((2, 3, 0));
        assert_eq!(
            heads_first(&empty, &Array1::zeros(0)).unwrap(),
            ndarray::Array2::<i64>::zeros((2, 3))
        );
    }

    #[test]
    fn float_products_with_empty_axes() {
        for (b, m, d, n) in [(0, 3, 4, 5), (3, 0, 4, 5), (3, 4, 0, 5), (3, 4, 5, 0)] {
            let x = Array2::<f32>::ones((b, d));
            let w = Array3::<f32>::ones((m, d, n));
            let y = batched(&x, &w).unwrap();
            assert_eq!(y.dim(), (b, m, n));
            assert!(y.iter().all(|&v| v == 0.0));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn integer_batched_equals_reference(b in 1usize..9, m in 1usize..4, d in 1usize..40, n in 1usize..40, seed in 0i64..1000) {
            let x = Array::from_shape_fn((b, d), |(i, k)| (seed + i as i64 * 13 + k as i64 * 7) % 17 - 8);
            let w = Array::from_shape_fn((m, d, n), |(i, k, j)| (seed * 3 + (i * 5 + k * 11 + j) as i64) % 19 - 9);
            let expect = reference_batched(x.view(), w.view(), i64::mac);
            let x_pack = pack_a(x.view());
            let mut got = Array3::<i64>::zeros((b, m, n));
            for (w_i, out_i) in w.outer_iter().zip(got.axis_iter_mut(Axis(1))) {
                head(&x_pack, w_i, out_i);
            }
            prop_assert_eq!(&got, &expect);
            prop_assert_eq!(batched(&x, &w).unwrap(), expect);
        }
    }
}
