//! The arguments of `notes tensor demo`, `print` and `multihead` (notes-tensor), as clap derive
//! types: parsing only, the handlers in `cmd::tensor` consume them.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use notes_tensor::{FloatMode, Legacy, PrintOptions, Sign};

/// Arguments of `notes tensor`.
#[derive(Debug, Args)]
pub(crate) struct TensorArgs {
    #[command(subcommand)]
    pub(crate) command: TensorCommand,
}

#[derive(Debug, Subcommand)]
pub(crate) enum TensorCommand {
    /// Print both of the notes' multi-head examples (x, w, y and their shapes), as numpy does.
    Demo,
    /// Print a .npy file exactly as numpy's `print(np.load(FILE))` does under the given options;
    /// for a .npz archive, each member's key and array, as
    /// `d = np.load(FILE); for k in d.files: print(k); print(d[k])` does.
    Print(PrintArgs),
    /// Multiply a .npy input by a .npy multi-head weight tensor and write the result as .npy.
    Multihead(MultiheadArgs),
}

/// numpy's print options as flags (`np.set_printoptions`).
#[derive(Debug, Args)]
pub(crate) struct PrintArgs {
    /// The .npy or .npz file to print (told apart by their first bytes, as np.load does).
    pub(crate) file: PathBuf,
    /// Digits after the decimal point (at most, with the default floatmode).
    #[arg(long, value_name = "P", default_value_t = 8)]
    pub(crate) precision: usize,
    /// Wrap lines at this many characters.
    #[arg(long, value_name = "L", default_value_t = 75)]
    pub(crate) linewidth: usize,
    /// Print small numbers as zeros instead of in scientific notation.
    #[arg(long)]
    pub(crate) suppress: bool,
    /// Summarise arrays with more elements than this with `...`.
    #[arg(long, value_name = "T", default_value_t = 1000)]
    pub(crate) threshold: usize,
    /// Items shown at each end of a summarised axis.
    #[arg(long, value_name = "E", default_value_t = 3)]
    pub(crate) edgeitems: usize,
    /// How positive numbers are signed: `-` (nothing), `+`, or ' ' (a space).
    #[arg(long, value_name = "SIGN", default_value = "-", value_parser = ["-", "+", " "])]
    pub(crate) sign: String,
    /// How many fractional digits floats get.
    #[arg(long, value_enum, default_value_t = FloatModeArg::Maxprec)]
    pub(crate) floatmode: FloatModeArg,
    /// How NaN prints.
    #[arg(long, default_value = "nan")]
    pub(crate) nanstr: String,
    /// How infinity prints.
    #[arg(long, default_value = "inf")]
    pub(crate) infstr: String,
    /// Use an older numpy's layout (numpy's `legacy` option).
    #[arg(long, value_name = "VERSION", value_parser = ["1.13", "1.21", "1.25", "2.1", "2.2"])]
    pub(crate) legacy: Option<String>,
    /// Print numpy's `repr(a)` (`array([...], dtype=...)`) instead of `print(a)`.
    #[arg(long)]
    pub(crate) repr: bool,
}

/// The `--floatmode` choices (numpy's names).
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FloatModeArg {
    /// Always `precision` digits.
    Fixed,
    /// The shortest digits that identify each value.
    Unique,
    /// At most `precision` digits, as few as each value needs.
    Maxprec,
    /// At most `precision` digits, the same for all elements.
    #[value(name = "maxprec_equal")]
    MaxprecEqual,
}

impl PrintArgs {
    pub(crate) fn options(&self) -> PrintOptions {
        PrintOptions {
            precision: self.precision,
            threshold: self.threshold,
            edgeitems: self.edgeitems,
            linewidth: self.linewidth,
            suppress: self.suppress,
            sign: match self.sign.as_str() {
                "+" => Sign::Plus,
                " " => Sign::Space,
                _ => Sign::Minus,
            },
            floatmode: match self.floatmode {
                FloatModeArg::Fixed => FloatMode::Fixed,
                FloatModeArg::Unique => FloatMode::Unique,
                FloatModeArg::Maxprec => FloatMode::Maxprec,
                FloatModeArg::MaxprecEqual => FloatMode::MaxprecEqual,
            },
            nanstr: self.nanstr.clone(),
            infstr: self.infstr.clone(),
            legacy: self.legacy.as_deref().map(|v| match v {
                "1.21" => Legacy::V1_21,
                "1.25" => Legacy::V1_25,
                "2.1" => Legacy::V2_1,
                "2.2" => Legacy::V2_2,
                _ => Legacy::V1_13,
            }),
        }
        // These are np.set_printoptions' options: legacy 1.13 ignores --sign there.
        .normalized()
    }
}

/// Arguments of `notes tensor multihead`.
#[derive(Debug, Args)]
pub(crate) struct MultiheadArgs {
    /// The input: (d,) for heads-first, (b, d) for batched.
    #[arg(long, value_name = "X.npy")]
    pub(crate) x: PathBuf,
    /// The weights: (m, n, d) for heads-first, (m, d, n) for batched.
    #[arg(long, value_name = "W.npy")]
    pub(crate) w: PathBuf,
    /// `heads-first`: y = (w @ x).squeeze(-1); `batched`: y = (x @ w).squeeze(-2).
    #[arg(long, value_enum, default_value_t = FormArg::Batched)]
    pub(crate) form: FormArg,
    /// Where to write y: a .npy file, or a .npz archive holding `y` when the name ends in `.npz`
    /// (as `np.savez(OUTPUT, y=y)`).
    #[arg(short, long, value_name = "Y.npy")]
    pub(crate) output: PathBuf,
    /// Deflate the .npz archive, as `np.savez_compressed` does.
    #[arg(long)]
    pub(crate) compressed: bool,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub(crate) force: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum FormArg {
    /// y[i, j] = <w[i, j, :], x>, w: (m, n, d), x: (d,).
    HeadsFirst,
    /// y[b, i, j] = sum_k x[b, k] w[i, k, j], x: (b, d), w: (m, d, n).
    Batched,
}
